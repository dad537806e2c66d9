/**
 * Writes the studio's sample datasets to public/samples/ (committed; `npx tsx
 * scripts/make-samples.ts` makes them again, byte for byte): three small labeled CSVs for
 * what the default 260K-parameter TinyStories model can learn from its words alone, and a
 * CSV template.
 *
 *   spam.csv       short text messages, spam or ham (a normal message)
 *   questions.csv  sentences, question or statement
 *   topics.csv     short story sentences about animals, food or weather
 *
 * Every row is composed here from hand-written sentence frames and word lists, with a
 * seeded generator, so the files are ours to license (CC0) and the same on every machine.
 * A frame is used with several fillings, never so often that it dominates a class, and no
 * text appears twice.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// $SAMPLES_OUT writes elsewhere (the test that the committed files are this script's output).
const outDir = process.env.SAMPLES_OUT ?? path.resolve(import.meta.dirname, '..', 'public', 'samples');

// ---- a seeded generator (mulberry32) -------------------------------------------------------

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Bank = Record<string, readonly string[]>;

/** Fills {slot} from the bank (a slot may name another: {name2} draws from `name`, never equal to {name}). */
function fill(frame: string, bank: Bank, random: () => number): string {
  const used = new Map<string, string>();
  return frame.replace(/\{(\w+?)(\d?)\}/g, (_, slot: string, n: string) => {
    const list = bank[slot];
    if (!list) throw new Error(`no slot "${slot}" for frame "${frame}"`);
    const key = slot + n;
    if (used.has(key)) return used.get(key)!;
    const taken = new Set([...used.entries()].filter(([k]) => k.startsWith(slot)).map(([, v]) => v));
    let value = list[Math.floor(random() * list.length)];
    for (let tries = 0; taken.has(value) && tries < 20; tries++) value = list[Math.floor(random() * list.length)];
    used.set(key, value);
    return value;
  });
}

/** Capitalizes the first letter (frames may start with a slot). */
const sentenceCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * `count` distinct texts from frames, each frame used at most `perFrame` times, in a
 * seeded order; frames without slots are used once.
 */
function compose(frames: readonly string[], bank: Bank, count: number, random: () => number, perFrame: number, keepCase = false): string[] {
  const out = new Set<string>();
  const uses = new Map<string, number>();
  let attempts = 0;
  while (out.size < count) {
    if (++attempts > count * 200) throw new Error(`only ${out.size} of ${count} distinct texts from ${frames.length} frames`);
    const frame = frames[Math.floor(random() * frames.length)];
    const limit = frame.includes('{') ? perFrame : 1;
    if ((uses.get(frame) ?? 0) >= limit) continue;
    const raw = fill(frame, bank, random).replace(/\s+/g, ' ').trim();
    const text = keepCase ? raw : sentenceCase(raw);
    if (out.has(text)) continue;
    out.add(text);
    uses.set(frame, (uses.get(frame) ?? 0) + 1);
  }
  return [...out];
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** RFC 4180: quote a field with a comma, quote or line break; CRLF line ends. */
function csv(rows: { text: string; label: string }[]): string {
  const field = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return ['text,label', ...rows.map((r) => `${field(r.text)},${field(r.label)}`)].join('\r\n') + '\r\n';
}

function digits(random: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(random() * 10);
  return s;
}

function code(random: () => number, n: number): string {
  const letters = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let s = '';
  for (let i = 0; i < n; i++) s += letters[Math.floor(random() * letters.length)];
  return s;
}

// ---- spam.csv --------------------------------------------------------------------------------

function spamSample(): { text: string; label: string }[] {
  const random = rng(2611);
  const numbers = Array.from({ length: 40 }, () => `0${['800', '871', '906', '845', '77'][Math.floor(random() * 5)]}${digits(random, 7)}`);
  const shortcodes = Array.from({ length: 20 }, () => digits(random, 5));
  const codes = Array.from({ length: 30 }, () => code(random, 6));
  const spamBank: Bank = {
    prize: ['£1000 cash', '£500 in vouchers', 'a £250 gift card', 'a brand new iPhone', 'a holiday for two', '$1,000 in Walmart credit',
      '£2,000 cash', 'a free laptop', 'a luxury cruise', '£100 of shopping', 'a Sony TV', 'free cinema tickets for a year', 'an Apple Watch',
      '£750', 'a weekend in Paris', '$500 cash'],
    number: numbers,
    shortcode: shortcodes,
    code: codes,
    site: ['www.claim-prize-now.com', 'www.winbig-uk.net', 'bit.ly/3xPrz9', 'tinyurl.com/getcash7', 'www.free-gifts-online.co', 'www.best-loans4u.com',
      'www.txt-rewards.com', 'www.rapid-refund.net', 'secure-verify-acct.com', 'www.hotsingles-near.me', 'www.mob-tones.co.uk'],
    deadline: ['today only', 'before midnight', 'within 24 hours', 'by Friday', 'in the next 2 hours', 'now', 'before it expires', 'this weekend'],
    cost: ['150p/msg', '£1.50/min', '£3/wk', '25p per min', '£4.50 per week', '£1/msg', 'standard rates apply'],
    greeting: ['URGENT!', 'Congratulations!', 'WINNER!!', 'FREE MSG:', 'Dear customer,', 'Attention:', 'Hi there!', 'Final notice:', 'You are a winner!',
      'SIX chances to win CASH!', 'Important:'],
    bank: ['Your bank', 'Barclays', 'HSBC', 'PayPal', 'Amazon', 'Royal Mail', 'HMRC', 'Your mobile network'],
    payee: ['PayPal', 'Amazon', 'eBay', 'HSBC', 'Barclays', 'Apple Pay', 'Visa'],
    item: ['ringtone', 'wallpaper', 'video clip', 'game', 'horoscope', 'love match'],
    amount: ['£3,000', '£5,000', '£10,000', '£25,000', '$2,500', '$8,000', '£15,000'],
    percent: ['50%', '70%', '80%', '90%', '60%'],
    product: ['designer watches', 'weight loss pills', 'phone contracts', 'car insurance', 'sunglasses', 'perfume', 'trainers', 'broadband'],
  };
  const spamFrames = [
    '{greeting} You have won {prize}! Call {number} {deadline} to claim. {cost}',
    '{greeting} You have been selected to receive {prize}. To claim call {number}. Claim code {code}. Valid {deadline}.',
    'Your mobile number has won {prize} in our weekly draw. Text CLAIM to {shortcode} {deadline}. {cost}',
    '{greeting} Your account has been suspended. Verify your details at {site} {deadline} or it will be closed.',
    '{bank}: we noticed unusual activity on your account. Confirm your identity here {site}',
    'Your parcel could not be delivered. Pay the £1.99 fee at {site} to book a new delivery slot.',
    'Need cash fast? Loans from {amount} approved in minutes, no credit checks! Reply YES or visit {site}',
    'You are owed a tax refund of {amount}. Claim it {deadline} at {site}',
    'FREE {item} for your mobile! Text GO to {shortcode} now. {cost}, stop to end',
    'Get {percent} off {product} {deadline}! Use code {code} at {site}',
    'Hot singles in your area want to chat! Text DATE to {shortcode}. {cost} 18+',
    'Reply WIN to {shortcode} for your chance to win {prize}. {cost}',
    '{greeting} As a valued customer you can claim {prize}. Call {number} quoting {code}.',
    'Thanks for your order! If you did not order this, cancel now at {site} or call {number}',
    'Your {payee} card has been blocked. To unlock it call {number} {deadline}.',
    'Double your money in 7 days with our crypto plan. Join {deadline} at {site}',
    'Last chance! Your prize ({prize}) is waiting for you. Just answer 3 questions at {site}',
    'We tried to reach you about your car accident claim. You could get up to {amount}. Reply CLAIM.',
    'You have 1 new voicemail. Call {number} to listen. {cost}',
    'Someone has a secret crush on you! Find out who: text CRUSH to {shortcode}. {cost}',
    'Cheap {product} direct from the factory. {percent} off, free delivery {deadline}. {site}',
    'Your number was picked for a free survey. Complete it and get {prize}. {site}',
    '{greeting} Final attempt to contact you about {prize} waiting in your name. Call {number} {deadline}.',
    'Claim your free spins now! Deposit £10 and play with £50. {site} T&Cs apply',
    'Your subscription to our {item} service will renew at {cost}. To cancel call {number}',
    'Congrats! You are our 1,000,000th visitor. Click {site} to collect {prize}',
    'Lowest rates guaranteed on {product}. Call {number} and save {percent} {deadline}!',
    'PRIVATE! Your 2024 account statement shows {amount} in unclaimed bonus points. Call {number}. Identifier {code}.',
    'Work from home and earn {amount} a month. No experience needed. Text JOB to {shortcode}',
    'Your Netflix payment failed. Update your card at {site} to keep watching.',
    'Hi! I am Mrs Grace, I want to give you {amount} from my late husband. Reply with your bank details.',
    '{greeting} Free entry into our {prize} draw. Text WIN to {shortcode} to enter. {cost}',
    'Our records show you still have not claimed {prize}. Call {number} {deadline}.',
    'U have been chosen 4 a FREE {item}! Txt YES 2 {shortcode}. {cost}',
    'Apple ID locked. Sign in at {site} within 24 hrs to avoid losing your data.',
    'Earn cash for your old phone! Up to {amount}, paid today. {site}',
    'IMPORTANT: your {payee} payment of {amount} is pending. If this was not you, call {number}',
    'Want a loan of {amount}? Bad credit OK. Apply {deadline} at {site}',
  ];
  const hamBank: Bank = {
    name: ['Sam', 'Jo', 'Mum', 'Dad', 'Priya', 'Tom', 'Lucy', 'Ben', 'Aisha', 'Grandma', 'Chris', 'Mia', 'Leo', 'Nina', 'Omar', 'Kate', 'Raj', 'Ella'],
    time: ['at 6', 'around 7', 'after work', 'at lunch', 'in 10 mins', 'tonight', 'tomorrow morning', 'at half 5', 'after school', 'on Saturday',
      'at 8ish', 'later', 'this evening', 'on Sunday afternoon'],
    place: ['the station', 'the park', 'the pub', "Tesco", 'the cafe', 'the cinema', 'the gym', 'the library', 'school', 'the bus stop', 'your place',
      'the usual spot', 'the shops', 'the market'],
    food: ['pizza', 'pasta', 'curry', 'fish and chips', 'tacos', 'soup', 'burgers', 'a roast', 'noodles', 'chilli', 'pancakes', 'lasagne'],
    thing: ['keys', 'charger', 'umbrella', 'jacket', 'wallet', 'book', 'headphones', 'lunch box', 'glasses', 'scarf'],
    item: ['milk', 'bread', 'eggs', 'bananas', 'cheese', 'teabags', 'butter', 'cat food', 'toilet roll', 'apples', 'rice'],
    feeling: ['tired', 'so full', 'a bit ill', 'really happy', 'knackered', 'bored', 'fine', 'much better', 'stressed'],
    event: ['the match', 'the film', 'the party', 'the meeting', 'the exam', 'the interview', 'the concert', 'the football', "Kate's birthday", 'the quiz'],
    pet: ['the dog', 'the cat', 'Biscuit', 'the rabbit', 'Max', 'the puppy'],
  };
  const hamFrames = [
    "I'll be at {place} {time}, see you there",
    'Running late, be there {time}',
    "Can you pick up some {item} on the way home?",
    'Did you remember to feed {pet}?',
    "What do you want for dinner? I was thinking {food}",
    "Just got home. I'm {feeling}",
    'Have you seen my {thing}? Think I left it at {place}',
    'Good luck with {event} today!',
    "How did {event} go?",
    'Thanks for today, had a lovely time x',
    "Ok see you {time}",
    "Sorry I missed your call, I was at {place}. Call you back {time}",
    "{name} says hi",
    'Are we still on for {event}?',
    "Can't make it {time}, something came up. Another day?",
    "Don't forget {event} is {time}",
    "Happy birthday!! Hope you have a great day",
    'Yes please, {food} sounds perfect',
    "Leaving now, be about 20 mins",
    "I'm outside",
    'Where are you? Been waiting at {place} for ages',
    'Lol that is so funny',
    'Can you call me when you get a sec',
    "Miss you, can't wait to see you {time}",
    '{name} is coming too if that is ok',
    'We need {item} and {item2}, can you grab some?',
    "Dinner's ready!",
    "Shall we get {food} {time}?",
    "Text me when you get to {place}",
    "I'm on the bus, home soon",
    "Just finished {event}, it went really well",
    "Don't wait up, I'll be back late",
    "Found your {thing}, it was under the sofa",
    "Are you coming to {event}?",
    "The train is delayed again, ugh",
    "{pet} chewed my {thing} again",
    "Morning! Sleep well?",
    'Got the tickets for {event}',
    "Can I borrow your {thing} {time}?",
    "I'll bring {food}, you bring drinks",
    "Ha ok, see you at {place}",
    'That film was rubbish, sorry for dragging you along',
    "Is {name} with you? Not answering the phone",
    "Picking {name} up from {place} {time}",
    "Hope you feel better soon",
    "What time does {event} start?",
    "Nearly there, just parking",
    "Remember to take your {thing}, it's going to rain",
    "Had {food} for lunch, so good",
    "Ok no worries, speak {time}",
    "Can't talk now, at {event}. Will text later",
    "Let me know when you're free",
    "I think {pet} misses you",
    'Do you need anything from {place}?',
    'Thanks for the lift {name}!',
    "Home safe, night x",
    "Is it ok if I stay at yours {time}?",
    "Check the group chat, {name} posted the photos",
    "Tell {name} I said thanks",
    "Bring your {thing} if you have it",
    "Mum wants to know if you're coming for {food} on Sunday",
    "Just saw {name} at {place}, looks well",
    "Well done on {event}, so proud of you",
    "Kettle's on, come round",
    "Sure, that works for me",
    "Forgot my {thing}, can you bring it to {place}?",
    'Yeah fine, whatever you want',
    "I'll ring you {time}",
  ];
  const spam = compose(spamFrames, spamBank, 120, random, 4);
  // People text in lower case about a fifth of the time.
  const ham = compose(hamFrames, hamBank, 180, random, 4).map((t) => (random() < 0.2 ? t.toLowerCase().replace(/[.!]$/, '') : t));
  return shuffle([...spam.map((text) => ({ text, label: 'spam' })), ...ham.map((text) => ({ text, label: 'ham' }))], random);
}

// ---- questions.csv ---------------------------------------------------------------------------

function questionSample(): { text: string; label: string }[] {
  const random = rng(1903);
  const bank: Bank = {
    name: ['Lily', 'Tom', 'Ben', 'Mia', 'Sue', 'Max', 'Anna', 'Jack', 'Lucy', 'Sam', 'Tim', 'Zoe', 'Mom', 'Dad', 'Grandpa', 'the teacher'],
    animal: ['the cat', 'the dog', 'the bird', 'the little fox', 'the bunny', 'the frog', 'the duck', 'the puppy', 'the bear', 'the fish'],
    place: ['the park', 'the garden', 'school', 'the beach', 'the shop', 'the forest', 'the pond', 'the library', 'the farm', 'the zoo', 'the kitchen'],
    thing: ['ball', 'kite', 'hat', 'toy car', 'box', 'book', 'cup', 'teddy bear', 'shoes', 'drawing', 'bike', 'scarf'],
    food: ['soup', 'cookies', 'apples', 'bread', 'ice cream', 'pancakes', 'carrots', 'pie', 'cheese', 'cake'],
    time: ['today', 'after lunch', 'in the morning', 'tonight', 'on Sunday', 'before dinner', 'tomorrow', 'at bedtime'],
    past: ['last night', 'yesterday', 'this morning', 'on Monday', 'after school', 'at the party'],
    feeling: ['happy', 'sad', 'tired', 'scared', 'hungry', 'cold', 'excited', 'sleepy', 'angry', 'proud'],
    color: ['red', 'blue', 'green', 'yellow', 'pink', 'purple', 'orange', 'brown'],
    verb: ['play', 'read', 'paint', 'sing', 'dance', 'swim', 'run', 'draw', 'bake', 'climb'],
  };
  const questions = [
    'Where is my {thing}?',
    'Can {name} come to {place} {time}?',
    'Why is {animal} so {feeling}?',
    'What did {name} find at {place} {past}?',
    'Do you want some {food}?',
    'Who left the {thing} in {place}?',
    'Is {animal} hiding under the bed?',
    'How many cookies are in the jar?',
    'Will it rain {time}?',
    'What color is your {thing}?',
    'Are we going to {place} {time}?',
    'Did {name} eat all the {food} {past}?',
    'When will {name} be home?',
    'Can I {verb} with you?',
    'Why did {animal} run away?',
    'Have you seen {animal}?',
    'Where did {name} put the {thing}?',
    'Do you like to {verb}?',
    'What is {name} doing at {place}?',
    'Is the {thing} {color}?',
    'Who wants to {verb} {time}?',
    'How did {animal} get into {place}?',
    'Shall we make {food} {time}?',
    'Was {name} {feeling} {past}?',
    'Could you help me find my {thing}?',
    'Which {thing} is yours?',
    'Would you like to go to {place}?',
    'What will we do {time}?',
    'Does {animal} like {food}?',
    'Why are you so {feeling}?',
    'Can {animal} {verb}?',
    'How do you {verb} so well?',
    'Is {name} still at {place}?',
    'What happened to the {thing}?',
    'May I have some {food}, please?',
    'Did you hear that noise?',
    'Are you {feeling}?',
    'What is inside the box?',
    'Where do the ducks go in winter?',
    'How old is your brother?',
    'Why is the sky blue?',
    'Can we stay up late tonight?',
    'Who is knocking on the door?',
    'Do fish sleep?',
    'What is your favorite song?',
    'Is it time for bed yet?',
    'Where does the sun go at night?',
    'How far is it to the sea?',
    'Did you brush your teeth?',
    'Who made this mess?',
  ];
  const statements = [
    'My {thing} is under the bed.',
    '{name} went to {place} {past}.',
    '{animal} is very {feeling} {time}.',
    '{name} found a {thing} at {place} {past}.',
    'I want some {food}.',
    'Someone left the {thing} in {place}.',
    '{animal} is hiding under the bed.',
    'There are five cookies in the jar.',
    'It will rain {time}.',
    'My {thing} is {color}.',
    'We are going to {place} {time}.',
    '{name} ate all the {food} {past}.',
    '{name} will be home soon.',
    'I like to {verb} with my friends.',
    '{animal} ran away from the big dog.',
    'I saw {animal} by the tree.',
    '{name} put the {thing} on the table.',
    '{name} loves to {verb} {time}.',
    '{name} is playing at {place}.',
    'The {thing} is {color} and shiny.',
    'We will {verb} together {time}.',
    '{animal} got into {place} through the gate.',
    'Let us make {food} {time}.',
    '{name} was {feeling} {past}.',
    'I helped {name} find the {thing}.',
    'This {thing} is mine.',
    'I would like to go to {place}.',
    'We will visit Grandma {time}.',
    '{animal} likes {food} a lot.',
    'I am so {feeling} {time}.',
    '{animal} can {verb} very fast.',
    '{name} can {verb} so well.',
    '{name} is still at {place}.',
    'The {thing} broke into two pieces.',
    'Please pass the {food}.',
    'I heard a loud noise outside.',
    'You look {feeling}.',
    'The box is full of toys.',
    'The ducks fly south in winter.',
    'My brother is six years old.',
    'The sky is blue and bright.',
    'We stayed up late last night.',
    'Someone is knocking on the door.',
    'Fish sleep with their eyes open.',
    'My favorite song is about the moon.',
    'It is time for bed.',
    'The sun goes down behind the hill.',
    'The sea is not far from here.',
    'I brushed my teeth after dinner.',
    'The puppy made a big mess.',
  ];
  const q = compose(questions, bank, 150, random, 5);
  const s = compose(statements, bank, 150, random, 5);
  return shuffle([...q.map((text) => ({ text, label: 'question' })), ...s.map((text) => ({ text, label: 'statement' }))], random);
}

// ---- topics.csv ------------------------------------------------------------------------------

function topicSample(): { text: string; label: string }[] {
  const random = rng(4242);
  const bank: Bank = {
    name: ['Lily', 'Tom', 'Ben', 'Mia', 'Sue', 'Max', 'Anna', 'Jack', 'Lucy', 'Sam', 'Tim', 'Zoe', 'Mom', 'Dad', 'Grandma', 'Grandpa'],
    animal: ['dog', 'cat', 'bird', 'fox', 'bunny', 'frog', 'duck', 'puppy', 'bear', 'horse', 'cow', 'owl', 'mouse', 'lion', 'pig', 'kitten', 'squirrel', 'deer'],
    animals: ['dogs', 'cats', 'ducks', 'rabbits', 'frogs', 'birds', 'mice', 'foxes', 'owls', 'squirrels', 'bees'],
    farmAnimals: ['cows', 'pigs', 'sheep', 'hens', 'horses', 'goats', 'geese', 'ducks'],
    sound: ['barked', 'meowed', 'chirped', 'quacked', 'squeaked', 'growled', 'purred', 'hooted', 'mooed', 'roared'],
    move: ['ran', 'hopped', 'jumped', 'flew', 'swam', 'crawled', 'raced', 'climbed', 'waddled'],
    animalPlace: ['the barn', 'the pond', 'the tall tree', 'the field', 'the woods', 'its nest', 'the farm', 'the river', 'the meadow', 'the hole'],
    food: ['soup', 'cookies', 'apple pie', 'bread', 'pancakes', 'sandwiches', 'spaghetti', 'cake', 'rice', 'carrot soup', 'pizza', 'muffins',
      'porridge', 'salad', 'cheese toast', 'strawberries', 'bananas', 'noodles'],
    meal: ['breakfast', 'lunch', 'dinner', 'a snack', 'the picnic', 'the party', 'supper'],
    taste: ['sweet', 'yummy', 'warm', 'crunchy', 'salty', 'juicy', 'delicious', 'soft', 'spicy'],
    sky: ['sky', 'clouds', 'sun', 'wind', 'rain', 'snow', 'storm', 'fog', 'thunder'],
    weatherDo: ['was grey all morning', 'turned dark and heavy', 'came out after the rain', 'blew the leaves off the trees', 'fell all night',
      'covered the hills in white', 'rolled in from the sea', 'rumbled far away', 'was warm and bright', 'made puddles in the road'],
    season: ['in winter', 'in spring', 'in summer', 'in autumn', 'today', 'this morning', 'last night', 'all week', 'on Sunday'],
    temp: ['cold', 'hot', 'windy', 'rainy', 'snowy', 'sunny', 'cloudy', 'stormy', 'foggy', 'chilly', 'warm'],
  };
  const animals = [
    'The {animal} {move} across {animalPlace}.',
    'A little {animal} lived near {animalPlace}.',
    'The {animal} {sound} at the cat next door.',
    '{name} fed the {animal} some seeds.',
    'The baby {animal} stayed close to its mother.',
    'A brown {animal} {move} into {animalPlace} to hide.',
    'The {animal} had soft fur and a long tail.',
    '{name} saw a {animal} by {animalPlace}.',
    'The old {animal} {sound} loudly in the morning.',
    'Every night the {animal} slept in {animalPlace}.',
    'The {animal} and the {animal2} were best friends.',
    '{name} wanted a pet {animal} more than anything.',
    'The {animal} {move} after a butterfly.',
    'A family of {animals} lived in {animalPlace}.',
    'The farmer counted his {farmAnimals} in the field.',
    'The {animal} licked its paws and {sound}.',
    '{name} gave the hungry {animal} a bowl of water.',
    'The {animal} built a home in {animalPlace}.',
    'A tiny {animal} was stuck in {animalPlace}.',
    'The {animal} wagged its tail when {name} came home.',
  ];
  const food = [
    '{name} made {food} for {meal}.',
    'The {food} tasted {taste} and fresh.',
    '{name} baked {food} in the big oven.',
    'We ate {food} at {meal}.',
    'Mom cut the {food} into small pieces.',
    '{name} spilled {food} on the table.',
    'The smell of {food} filled the kitchen.',
    'They had {food} and milk for {meal}.',
    '{name} shared the {food} with a friend.',
    'Dad cooked {food} on the stove.',
    '{name} did not like the {taste} {food}.',
    'The {food} came out of the oven too hot to eat.',
    '{name} asked for more {food} at {meal}.',
    'Grandma packed {food} for {meal}.',
    'The {taste} {food} made everyone smile.',
    '{name} mixed flour, eggs and sugar for the {food}.',
    'We bought {food} at the market.',
    '{name} ate the {food} with a big spoon.',
    'After {meal} everyone had {food}.',
    'The kitchen was warm and the {food} smelled good.',
  ];
  const weather = [
    'The {sky} {weatherDo}.',
    'It was very {temp} {season}.',
    'The {sky} made {name} stay inside {season}.',
    '{name} wore a coat because it was {temp}.',
    'Big drops of rain fell on the roof {season}.',
    'The wind was strong and {temp} {season}.',
    'Snow covered the garden {season}.',
    'The sun was hot and the sky was clear {season}.',
    'Dark clouds came and it started to rain.',
    'After the storm, a rainbow came out.',
    '{name} saw lightning in the {temp} night sky.',
    'The puddles froze because it was so {temp}.',
    'It was {temp} and grey {season}.',
    'The {sky} hid the hills {season}.',
    '{name} opened an umbrella when the rain came.',
    'The weather was {temp}, so they stayed home.',
    'Thunder boomed and the windows shook.',
    'Frost made the grass white {season}.',
    'The {temp} wind pushed the clouds away.',
    'A warm breeze blew {season}.',
  ];
  const a = compose(animals, bank, 100, random, 8);
  const f = compose(food, bank, 100, random, 8);
  const w = compose(weather, bank, 100, random, 8);
  return shuffle([
    ...a.map((text) => ({ text, label: 'animals' })),
    ...f.map((text) => ({ text, label: 'food' })),
    ...w.map((text) => ({ text, label: 'weather' })),
  ], random);
}

// ---- write --------------------------------------------------------------------------------

/** A template to start from: the header and a few rows of each kind. */
const TEMPLATE = csv([
  { text: 'Congratulations! You have won a free cruise. Call now to claim.', label: 'spam' },
  { text: 'Running late, see you at 7', label: 'ham' },
  { text: 'Your parcel is waiting: pay the fee at this link to get it.', label: 'spam' },
  { text: 'Can you pick up some milk on the way home?', label: 'ham' },
]);

mkdirSync(outDir, { recursive: true });
const files: [string, string][] = [
  ['spam.csv', csv(spamSample())],
  ['questions.csv', csv(questionSample())],
  ['topics.csv', csv(topicSample())],
  ['template.csv', TEMPLATE],
];
for (const [name, text] of files) {
  writeFileSync(path.join(outDir, name), text);
  console.log(`wrote ${path.join(outDir, name)} (${text.split('\r\n').length - 2} rows)`);
}
