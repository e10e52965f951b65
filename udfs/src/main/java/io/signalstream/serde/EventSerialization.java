package io.signalstream.serde;

import io.signalstream.events.AgentResult;
import io.signalstream.events.AggregatedIntelligence;
import io.signalstream.events.Alert;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.DeadLetter;
import io.signalstream.events.LearningSignal;
import io.signalstream.events.LineageRecord;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * The Kafka record serializers of every output topic: JSON values (see {@link Json}) and the key
 * {@code tenant_id:conversation_id}, so all records of a conversation land in one partition (the
 * producer hashes the key) and the compacted aggregated topic keeps the newest record per
 * conversation.
 */
public final class EventSerialization {

    private EventSerialization() {}

    /** Serializer for {@code support.conversations.state}. */
    public static KafkaRecordSerializationSchema<ConversationSnapshot> snapshots(String topic) {
        return new KeyedJson<>(s -> topic, ConversationSnapshot::conversationKey);
    }

    /**
     * Serializer for the per-agent topics: {@code topicPrefix + agent}, e.g. {@code
     * support.ai.sentiment}.
     */
    public static KafkaRecordSerializationSchema<AgentResult> agentResults(String topicPrefix) {
        return new KeyedJson<>(r -> topicPrefix + r.agent(), AgentResult::conversationKey);
    }

    /** Serializer for {@code support.ai.aggregated}. */
    public static KafkaRecordSerializationSchema<AggregatedIntelligence> aggregated(String topic) {
        return new KeyedJson<>(a -> topic, AggregatedIntelligence::conversationKey);
    }

    /** Serializer for {@code support.lineage}, keyed by the output key it describes. */
    public static KafkaRecordSerializationSchema<LineageRecord> lineage(String topic) {
        return new KeyedJson<>(l -> topic, l -> l.data().output().key());
    }

    /** Serializer for {@code support.alerts}. */
    public static KafkaRecordSerializationSchema<Alert> alerts(String topic) {
        return new KeyedJson<>(a -> topic, Alert::conversationKey);
    }

    /** Serializer for {@code support.dlq}, keyed by tenant (no key when unknown). */
    public static KafkaRecordSerializationSchema<DeadLetter> deadLetters(String topic) {
        return new KeyedJson<>(d -> topic, DeadLetter::tenantId);
    }

    /** Serializer for {@code support.learning-signals}, keyed {@code tenant:conversation}. */
    public static KafkaRecordSerializationSchema<LearningSignal> learningSignals(String topic) {
        return new KeyedJson<>(s -> topic, LearningSignal::conversationKey);
    }

    /**
     * A JSON value with a string key; the topic is chosen per record.
     *
     * @param <T> the event type
     */
    static final class KeyedJson<T> implements KafkaRecordSerializationSchema<T> {

        private static final long serialVersionUID = 1L;

        private final SerializableFunction<T, String> topic;
        private final SerializableFunction<T, String> key;

        KeyedJson(SerializableFunction<T, String> topic, SerializableFunction<T, String> key) {
            this.topic = topic;
            this.key = key;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                T element, KafkaSinkContext context, Long timestamp) {
            String k = key.apply(element);
            return new ProducerRecord<>(
                    topic.apply(element),
                    null,
                    timestamp,
                    k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                    Json.toBytes(element));
        }
    }
}
