package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.LearningSignal;
import io.signalstream.events.LineageRecord;
import io.signalstream.serde.EventSerialization;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;

import java.util.Properties;

/**
 * Exactly-once {@link KafkaSink}s for every output topic. Each sink has its own transactional-id
 * prefix ({@code <signalstream.kafka.transactional-id-prefix>-<output>}) and a transaction timeout
 * below the broker's {@code transaction.max.timeout.ms}; records become visible to {@code
 * read_committed} consumers when the checkpoint that covers them completes.
 */
public final class KafkaIntelligenceSinks implements IntelligenceSinks {

    private final ReadableConfig conf;
    private final Properties kafkaProperties;

    /**
     * @param conf job configuration (bootstrap servers, topics, transactional-id prefix)
     * @param kafkaProperties extra Kafka producer properties (e.g. security settings)
     */
    public KafkaIntelligenceSinks(ReadableConfig conf, Properties kafkaProperties) {
        this.conf = conf;
        this.kafkaProperties = kafkaProperties;
    }

    @Override
    public Sink<ConversationSnapshot> snapshots() {
        return sink("state", EventSerialization.snapshots(conf.get(JobOptions.TOPIC_STATE)));
    }

    @Override
    public Sink<AgentResult> agentResults() {
        return sink(
                "agents", EventSerialization.agentResults(conf.get(JobOptions.TOPIC_AGENT_PREFIX)));
    }

    @Override
    public Sink<AggregatedIntelligence> aggregated() {
        return sink(
                "aggregated", EventSerialization.aggregated(conf.get(JobOptions.TOPIC_AGGREGATED)));
    }

    @Override
    public Sink<LineageRecord> lineage() {
        return sink("lineage", EventSerialization.lineage(conf.get(JobOptions.TOPIC_LINEAGE)));
    }

    @Override
    public Sink<Alert> alerts() {
        return sink("alerts", EventSerialization.alerts(conf.get(JobOptions.TOPIC_ALERTS)));
    }

    @Override
    public Sink<DeadLetter> deadLetters() {
        return sink("dlq", EventSerialization.deadLetters(conf.get(JobOptions.TOPIC_DLQ)));
    }

    @Override
    public Sink<LearningSignal> learningSignals() {
        return sink(
                "learning-signals",
                EventSerialization.learningSignals(conf.get(JobOptions.TOPIC_LEARNING_SIGNALS)));
    }

    private <T> KafkaSink<T> sink(String output, KafkaRecordSerializationSchema<T> serializer) {
        Properties props = new Properties();
        props.putAll(kafkaProperties);
        props.setProperty(
                "transaction.timeout.ms",
                String.valueOf(conf.get(JobOptions.TRANSACTION_TIMEOUT).toMillis()));
        return KafkaSink.<T>builder()
                .setBootstrapServers(conf.get(JobOptions.BOOTSTRAP_SERVERS))
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(
                        conf.get(JobOptions.TRANSACTIONAL_ID_PREFIX) + "-" + output)
                .setKafkaProducerConfig(props)
                .setRecordSerializer(serializer)
                .build();
    }
}
