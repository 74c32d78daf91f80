/** Tasks the platform waits on itself, holding no process and no slot: the Kafka sensor (docs/streams.md). */
export { KAFKA_SENSOR_EXECUTOR_NAME, KafkaSensorExecutor, type KafkaSensorHost } from "./kafka-sensor-executor.js";
export { kafkaClientOptions, KafkaSensorWait, matchesFilter, startOffsets, type SensorMessage } from "./kafka-sensor-wait.js";
