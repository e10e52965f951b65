package io.signalstream.jobs;

import io.signalstream.config.JobOptions;
import io.signalstream.events.Alert;
import io.signalstream.events.ChatMessage;
import io.signalstream.local.ConversationReplayer;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Alerts on the real conversations, across injected failures: the job restarts from its checkpoints
 * twice while the input arrives, and a read_committed consumer of {@code support.alerts} must see
 * every alert once (no duplicate {@code alert_id}), each one referencing an aggregated (tenant,
 * conversation, version) that a read_committed consumer of {@code support.ai.aggregated} sees.
 */
class AlertsITCase extends KafkaJobTestBase {

    static final AtomicInteger SEEN = new AtomicInteger();
    static final AtomicInteger INJECTED = new AtomicInteger();

    /** Record counts (over all attempts) at which processing throws. */
    static final Set<Integer> FAIL_AT = Set.of(350, 950);

    /** Throws at chosen records, between checkpoints. */
    static final class FailingStage implements MapFunction<ChatMessage, ChatMessage> {
        private static final long serialVersionUID = 1L;

        @Override
        public ChatMessage map(ChatMessage m) {
            if (FAIL_AT.contains(SEEN.incrementAndGet())) {
                INJECTED.incrementAndGet();
                throw new RuntimeException("injected failure");
            }
            return m;
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void everyAlertOnceAndOnAnAggregatedVersionThatExists() throws Exception {
        RealData data = new RealData();
        Configuration conf = restartingJobConf("alerts-itcase", 10);

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobClient job =
                ConversationIntelligenceJob.kafka(conf, new Properties())
                        .withMessageStage(
                                messages ->
                                        messages.map(new FailingStage())
                                                .uid("test-failing-stage")
                                                .name("failing stage"))
                        .executeAsync(env, "alerts-itcase");
        try {
            var events = ConversationReplayer.toEvents(data.lines);
            produce(conf.get(JobOptions.TOPIC_INPUT), events.subList(0, events.size() / 2));
            Thread.sleep(1000);
            ConversationReplayer.produce(
                    broker.bootstrapServers(),
                    new Properties(),
                    conf.get(JobOptions.TOPIC_INPUT),
                    events.subList(events.size() / 2, events.size()),
                    400,
                    n -> {});

            Map<String, List<JsonNode>> out;
            try {
                out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                List.of("support.ai.aggregated", "support.alerts"),
                                got ->
                                        got.get("support.ai.aggregated").size()
                                                        >= data.expectedVersions.size()
                                                && INJECTED.get() >= FAIL_AT.size(),
                                Duration.ofMinutes(3));
            } catch (AssertionError e) {
                throw new AssertionError(
                        e.getMessage()
                                + "; job "
                                + job.getJobStatus().get(10, TimeUnit.SECONDS)
                                + ", injected "
                                + INJECTED.get()
                                + ", seen "
                                + SEEN.get(),
                        e);
            }

            Set<String> aggregated = new HashSet<>();
            out.get("support.ai.aggregated").forEach(a -> aggregated.add(RealData.versionId(a)));
            assertThat(aggregated).as("aggregated versions").isEqualTo(data.expectedVersions);
            assertThat(SEEN.get())
                    .as("records replayed after the failures")
                    .isGreaterThan(data.lines.size());
            List<JsonNode> alerts = out.get("support.alerts");
            List<String> ids = new ArrayList<>();
            Map<String, Integer> perType = new TreeMap<>();
            for (JsonNode a : alerts) {
                ids.add(a.get("alert_id").asText());
                perType.merge(a.get("type").asText(), 1, Integer::sum);
                assertThat(aggregated)
                        .as("aggregated record of alert %s", a)
                        .contains(RealData.versionId(a));
                assertThat(Alert.TYPES).contains(a.get("type").asText());
                assertThat(List.of(Alert.INFO, Alert.WARNING, Alert.CRITICAL))
                        .contains(a.get("severity").asText());
                assertThat(a.get("reason").asText()).isNotBlank();
                JsonNode ev = a.get("evidence");
                assertThat(ev.get("message_ids").size())
                        .isPositive()
                        .isEqualTo(ev.get("versions").size());
                String key = a.get("tenant_id").asText() + ":" + a.get("conversation_id").asText();
                for (JsonNode v : ev.get("versions")) {
                    assertThat(data.expectedVersions).contains(key + "#" + v.asLong());
                }
            }
            assertThat(ids).as("alert ids read_committed").doesNotHaveDuplicates();
            assertThat(INJECTED.get()).isEqualTo(FAIL_AT.size());
            // the real conversations ask for escalations, turn negative and wait for replies
            assertThat(perType)
                    .containsKeys(
                            Alert.ESCALATION_REQUESTED,
                            Alert.SENTIMENT_DETERIORATING,
                            Alert.REPLY_OVERDUE);
            System.out.printf(
                    "alerts across %d injected failures: %d alerts %s, %d distinct ids, on %d"
                            + " aggregated versions%n",
                    INJECTED.get(),
                    alerts.size(),
                    perType,
                    new HashSet<>(ids).size(),
                    aggregated.size());
        } finally {
            cancel(job);
        }
    }
}
