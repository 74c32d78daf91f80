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
  topicIdOf,
  type KafkaBatchLimits,
  type KafkaTriggerHost, type PartitionOffsets, type TriggerMessage, type TriggerState } from "./kafka-trigger.js";
export { batchFileNames, batchRunId, DEFAULT_BATCH_FILE_THRESHOLDS, type BatchFileThresholds } from "./batch-file.js";
export { DEFAULT_FILTER_MESSAGE_MS, MessageFilter, type FilterOutcome } from "./message-filter.js";
export { KafkaTriggers, type KafkaTriggersOptions, type KafkaTriggerStatus, type KafkaTriggerView } from "./kafka-triggers.js";
