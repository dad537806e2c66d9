import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { BackendPreference } from './engine/backend';
import { connectEngineEvents } from './state/events';
import { useHistoryStore } from './state/historyStore';
import { useModelStore } from './state/modelStore';
import { App } from './ui/App';
import './ui/styles.css';

// ?backend=webgpu|wasm|cpu forces a backend; ?gpuKernels=1 keeps small ops on the GPU (tests).
const params = new URLSearchParams(location.search);
const backend = (params.get('backend') ?? 'auto') as BackendPreference;
const flags = params.get('gpuKernels') === '1' ? { WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD: 0 } : undefined;
// Events first, so the default model's load progress is seen from its first byte.
connectEngineEvents();
void useModelStore.getState().start(backend, flags);
// The runs kept in this browser, and whether a reload interrupted one (offered to resume).
void useHistoryStore.getState().load();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
