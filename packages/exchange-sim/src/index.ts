export { startSimulator, type Simulator, type SimulatorOptions } from './server.ts';
export { Engine, EngineError } from './engine.ts';
export type {
  Account,
  AlgoOrder,
  Exchange,
  Order,
  Position,
  PositionMode,
  PosSide,
  Side,
  Trade,
  Income,
  CreateAccountInput,
  EngineChange,
} from './engine.ts';
export { binanceSign, okxSign, verifyBinance, verifyOkx } from './auth.ts';
export { MARKETS, findMarket, type MarketSpec } from './markets.ts';
export { Faults, type FaultInput, type FaultKind } from './faults.ts';
export { pointCcxtAtSimulator } from './ccxt-overrides.ts';
export { SimStreams } from './ws/streams.ts';
export type { StreamConnection, StreamTarget } from './ws/stream-hub.ts';
export { OKX_RULES, okxRule } from './rate-limit-rules.ts';
