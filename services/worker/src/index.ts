export { createWorkerService, type WorkerService, type WorkerServiceDeps } from './service.ts';
export { loadWorkerConfig, workerEnvSchema, type WorkerConfig } from './config.ts';
