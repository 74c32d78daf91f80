/** Runs triggered by Kafka topics: one consumer per trigger, each batch of messages one run, none lost and none twice. */
export {
  cutBatches,
  decodeMessage,
  DEFAULT_BATCH_LIMITS,
  highestStoredOffset,
  isoTimestamp,
  KafkaTrigger,
  kafkaRunKey,
  kafkaRunKeyPrefix,
  lastOffsetOfRunKey,
  messageBytes,
  type KafkaBatchLimits,
  type KafkaTriggerHost, type TriggerMessage, type TriggerState } from "./kafka-trigger.js";
export { KafkaTriggers, type KafkaTriggersOptions, type KafkaTriggerStatus } from "./kafka-triggers.js";
