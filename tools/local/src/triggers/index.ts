/** Firestore trigger events for the Functions emulator when Firestore is the Node stand-in. */
export {
  createTriggerDelivery,
  type FunctionStats,
  type TriggerDelivery,
  type TriggerDeliveryOptions,
  type TriggerStats,
} from "./delivery.js";
export { waitForTriggersIdle } from "./client.js";
export { compilePattern, type PathPattern } from "./patterns.js";
export { parseBackends, type FirestoreTrigger } from "./backends.js";
export {
  captureDocument,
  encodeDocumentEventData,
  type RestDocument,
  type RestValue,
} from "./documents.js";
