package io.signalstream.local.bench;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The platform ceiling: the plainest exactly-once job on the same broker, checkpoint settings and
 * messages as the real job: Kafka → keyBy(record key) → map → Kafka (exactly-once, transactions
 * committed on checkpoints). Whatever the real job reaches is measured against this.
 */
final class CeilingJob {

    private CeilingJob() {}

    /** A Kafka record's key and value. */
    public record KeyedBytes(String key, byte[] value) {}

    /**
     * Submits the job.
     *
     * @param conf the local Flink configuration (the same as the real job's)
     * @param bootstrap broker
     * @param in input topic (read from the earliest offset)
     * @param out output topic
     * @param name job name, group id and transactional-id prefix
     */
    static JobClient start(Configuration conf, String bootstrap, String in, String out, String name)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        KafkaSource<KeyedBytes> source =
                KafkaSource.<KeyedBytes>builder()
                        .setBootstrapServers(bootstrap)
                        .setTopics(in)
                        .setGroupId(name)
                        .setStartingOffsets(OffsetsInitializer.earliest())
                        .setDeserializer(new Deserializer())
                        .setProperty("isolation.level", "read_committed")
                        .build();
        KafkaSink<KeyedBytes> sink =
                KafkaSink.<KeyedBytes>builder()
                        .setBootstrapServers(bootstrap)
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .setTransactionalIdPrefix(name)
                        .setProperty(
                                "transaction.timeout.ms",
                                String.valueOf(Duration.ofMinutes(10).toMillis()))
                        .setRecordSerializer(
                                KafkaRecordSerializationSchema.<KeyedBytes>builder()
                                        .setTopic(out)
                                        .setKeySerializationSchema(new KeyOf())
                                        .setValueSerializationSchema(new ValueOf())
                                        .build())
                        .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "ceiling-source")
                .uid("ceiling-source")
                .keyBy(KeyedBytes::key)
                .map(k -> new KeyedBytes(k.key(), k.value()))
                .returns(TypeInformation.of(KeyedBytes.class))
                .uid("ceiling-map")
                .name("ceiling map")
                .sinkTo(sink)
                .uid("ceiling-sink")
                .name("ceiling sink");
        return env.executeAsync(name);
    }

    /** The record key (a class, not a lambda: the sink's lineage extracts its type). */
    private static final class KeyOf implements SerializationSchema<KeyedBytes> {
        @Override
        public byte[] serialize(KeyedBytes k) {
            return k.key().getBytes(StandardCharsets.UTF_8);
        }
    }

    /** The record value. */
    private static final class ValueOf implements SerializationSchema<KeyedBytes> {
        @Override
        public byte[] serialize(KeyedBytes k) {
            return k.value();
        }
    }

    private static final class Deserializer
            implements KafkaRecordDeserializationSchema<KeyedBytes> {
        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> r, Collector<KeyedBytes> out) {
            String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
            out.collect(new KeyedBytes(key, r.value()));
        }

        @Override
        public TypeInformation<KeyedBytes> getProducedType() {
            return TypeInformation.of(KeyedBytes.class);
        }
    }
}
