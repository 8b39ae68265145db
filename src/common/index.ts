export type { Clock } from "./clock.js";
export { systemClock } from "./clock.js";
export type { Runnable } from "./runnable.js";
export type { ErrorCode, ErrorContext } from "./errors.js";
export { ERROR_CODES, TicketplaneError, toTicketplaneError, errorMessage } from "./errors.js";
export type { Logger, LogFields, LogFormat, LogLevel, LoggerOptions } from "./logger.js";
export { createLogger, silentLogger } from "./logger.js";
export { UndecodableMessage, decodeOrUndecodable } from "./undecodable.js";
