package io.signalstream.events;

import java.util.Arrays;
import java.util.Objects;

/**
 * A Kafka record exactly as it was read, before any parsing: parsing happens in an operator so that
 * a record that cannot be parsed is routed to the dead-letter queue instead of failing the source.
 *
 * @param topic source topic
 * @param partition source partition
 * @param offset source offset
 * @param kafkaTimestamp the record timestamp in epoch milliseconds (CreateTime or LogAppendTime)
 * @param key the raw key bytes, may be {@code null}
 * @param value the raw value bytes, may be {@code null} (a tombstone or a null value)
 */
public record RawRecord(
        String topic, int partition, long offset, long kafkaTimestamp, byte[] key, byte[] value) {

    /** The source coordinates of this record. */
    public SourceRef source() {
        return new SourceRef(topic, partition, offset);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof RawRecord r)) {
            return false;
        }
        return partition == r.partition
                && offset == r.offset
                && kafkaTimestamp == r.kafkaTimestamp
                && Objects.equals(topic, r.topic)
                && Arrays.equals(key, r.key)
                && Arrays.equals(value, r.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(topic, partition, offset, kafkaTimestamp)
                + 31 * Arrays.hashCode(key)
                + 17 * Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "RawRecord{" + topic + "-" + partition + "@" + offset + "}";
    }
}
