/**
 * Least-squares fit of log(step time) = c + Σ e_i·log(x_i): the exponents say how step
 * time grows with each size (1 = linear, 2 = quadratic).
 */
export function fitExponents(rows: { x: number[]; y: number }[]): number[] {
  const n = rows[0].x.length + 1;
  // Normal equations AᵀA·β = Aᵀy with A = [1, log x...]
  const ata = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const aty = new Array<number>(n).fill(0);
  for (const r of rows) {
    const a = [1, ...r.x.map(Math.log)];
    const y = Math.log(r.y);
    for (let i = 0; i < n; i++) {
      aty[i] += a[i] * y;
      for (let j = 0; j < n; j++) ata[i][j] += a[i] * a[j];
    }
  }
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(ata[r][c]) > Math.abs(ata[p][c])) p = r;
    [ata[c], ata[p]] = [ata[p], ata[c]];
    [aty[c], aty[p]] = [aty[p], aty[c]];
    for (let r = 0; r < n; r++) {
      if (r === c || ata[c][c] === 0) continue;
      const f = ata[r][c] / ata[c][c];
      for (let k = c; k < n; k++) ata[r][k] -= f * ata[c][k];
      aty[r] -= f * aty[c];
    }
  }
  return aty.map((v, i) => v / ata[i][i]).slice(1);
}
