export type {
  AppKey,
  AppSource,
  AppSpec,
  CanarySpec,
  ClientLimits,
  ParseResult,
  PodEntry,
  QueueSettings,
  RateSettings,
  SpecError,
  TicketSettings,
} from "./app-spec.js";
export { DEFAULTS, appKey, formatSpecError } from "./app-spec.js";
export type { DurationResult } from "./duration.js";
export { DURATION_RULE, formatDuration, parseDuration } from "./duration.js";
export type { AddressResult, HostPort } from "./address.js";
export { formatHostPort, parseHostPort } from "./address.js";
export type { AppFieldsOptions } from "./app-fields.js";
export { APP_FIELDS, SECTION_FIELDS, readAppFields } from "./app-fields.js";
export { FieldReader, pathUnder } from "./field-reader.js";
export { TICKETED_APP_API_VERSION, TICKETED_APP_KIND, TICKETED_APP_SPEC_FIELDS, parseTicketedApp } from "./ticketed-app.js";
export type { K8sTicketResult } from "./k8sticket.js";
export {
  K8STICKET_APP_KEY,
  K8STICKET_DEFAULT_SPARE_TICKETS,
  K8STICKET_DEPLOYMENT_ANNOTATIONS,
  K8STICKET_LABEL,
  K8STICKET_POD_PATH,
  K8STICKET_POD_PORT,
  parseK8sTicketDeployment,
} from "./k8sticket.js";
export type { AppDocumentResult, DocumentKind } from "./app-documents.js";
export { describeObject, detectKind, readAppDocument } from "./app-documents.js";
export type { ClientAddressConfig, GatewayConfig, ListenConfig, LocalConfig } from "./config-file.js";
export { CLIENT_ADDRESS_DEFAULTS, CONFIG_APP_FIELDS, CONFIG_FIELDS, CONFIG_SECTION_FIELDS, GATEWAY_DEFAULTS, LISTEN_DEFAULTS, defaultStateFile, parseConfigFile } from "./config-file.js";
export { KEY_FIELDS, KEY_FILE_FIELDS, MIN_SECRET_BYTES, parseKeyFile, parseKeyRing } from "./key-file.js";
export type { CheckedDocument } from "./validate.js";
export { checkDocumentText, formatFileErrors, isKeyDocument, validateDocumentText } from "./validate.js";
export { parseYamlDocuments } from "./yaml-documents.js";
export { specError } from "./spec-errors.js";
export type { AppSet, ObjectSpecError } from "./app-set.js";
export { parseAppObjects } from "./app-set.js";
export type { LocalModeConfig, PodCommand } from "./local-file.js";
export { RUN_FIELDS, parseLocalFile } from "./local-file.js";
