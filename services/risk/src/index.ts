export { createRiskService, type RiskService, type RiskServiceOptions } from './service.ts';
export { loadRiskConfig, riskEnvSchema, type RiskConfig } from './config.ts';
