package io.signalstream.events;

/**
 * Where a record came from in Kafka: the topic, partition and offset of the input record.
 *
 * <p>Carried along the pipeline so every output can name its inputs in the lineage record and every
 * dead letter can name the record that was rejected.
 *
 * @param topic Kafka topic name
 * @param partition partition number (0-based)
 * @param offset offset inside the partition
 */
public record SourceRef(String topic, int partition, long offset) {}
