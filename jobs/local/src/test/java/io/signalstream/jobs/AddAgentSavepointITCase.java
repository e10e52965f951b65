package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.testutils.CommonTestUtils;

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
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Adding a custom agent to a running deployment is a savepoint upgrade that keeps every other
 * agent's state. Version 1 runs the four built-in agents on an OpenAI-compatible provider (one
 * combined operator, {@code agents-openai}) over the first half of the real conversations and stops
 * with a savepoint; version 2 adds {@code churn_risk} (prompt and schema from files, as a user
 * configures it) and restores without {@code allowNonRestoredState}, so every operator's state must
 * map. Checked: exactly-once across the switch; conversation versions continue; the summary of a
 * conversation split across the switch rolls forward from the summary written before it (the
 * request carries it); churn_risk answers appear on its own topic and under {@code
 * agents.churn_risk} of the aggregated records.
 */
class AddAgentSavepointITCase extends KafkaJobTestBase {

    private static Configuration conf(String llmUrl) {
        Configuration conf = jobConf("add-agent-itcase");
        for (String agent : AgentOptions.BUILT_IN_AGENTS) {
            conf.set(AgentOptions.provider(agent), "openai");
        }
        conf.set(ProviderOptions.baseUrl("openai"), llmUrl);
        conf.set(ProviderOptions.model("openai"), "loopback");
        conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(60));
        conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(90));
        // the response log topic of the openai provider, now that agents are on it
        KafkaTopics.create(
                broker.bootstrapServers(),
                new Properties(),
                KafkaTopics.layout(conf, 3, (short) 1));
        return conf;
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void addingAnAgentKeepsEveryOtherAgentsState() throws Exception {
        RealData data = new RealData();
        var events = ConversationReplayer.toEvents(data.lines);
        int split = events.size() / 2;
        while (!events.get(split - 1).getKey().equals(events.get(split).getKey())) {
            split++;
        }
        int half = split;
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(LoopbackLlmServer.schemaAnswers())) {
            Configuration v1 = conf(llm.baseUrl());
            String input = v1.get(JobOptions.TOPIC_INPUT);
            JobClient job1 =
                    submit(
                            ConversationIntelligenceJob.kafka(v1, new Properties()),
                            v1,
                            "add-agent-v1");
            produce(input, events.subList(0, half));
            KafkaOutputs.readCommitted(
                    broker.bootstrapServers(),
                    List.of("support.ai.aggregated"),
                    got -> got.get("support.ai.aggregated").size() >= half,
                    Duration.ofMinutes(2));
            String savepoint =
                    job1.stopWithSavepoint(
                                    false,
                                    tmp.resolve("savepoints-add-agent").toUri().toString(),
                                    SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
            CommonTestUtils.waitForJobStatus(job1, List.of(JobStatus.FINISHED));
            int requestsBefore = llm.requests().size();

            // Version 2: churn_risk added, configured as a user would.
            Configuration v2 = conf(llm.baseUrl());
            v2.setString(
                    "signalstream.agents.enabled", "pii;sentiment;insights;summary;churn_risk");
            v2.setString(
                    "signalstream.agents.churn_risk.prompt", "classpath:agents/churn_risk.v1.txt");
            v2.setString(
                    "signalstream.agents.churn_risk.schema",
                    "classpath:agents/churn_risk.schema.json");
            v2.setString("signalstream.agents.churn_risk.trigger", "customer-messages");
            v2.setString("signalstream.agents.churn_risk.context", "window");
            v2.setString("signalstream.agents.churn_risk.provider", "openai");
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(v2, 3, (short) 1));
            v2.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            JobClient job2 =
                    submit(
                            ConversationIntelligenceJob.kafka(v2, new Properties()),
                            v2,
                            "add-agent-v2");
            try {
                produce(input, events.subList(half, events.size()));
                Map<String, List<JsonNode>> out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                List.of(
                                        "support.ai.aggregated",
                                        "support.lineage",
                                        "support.ai.churn_risk"),
                                got ->
                                        got.get("support.ai.aggregated").size()
                                                        >= data.expectedVersions.size()
                                                && got.get("support.lineage").size()
                                                        >= data.expectedVersions.size(),
                                Duration.ofMinutes(3));
                data.assertExactlyOnce(out);

                // churn_risk answered after the switch, on its topic and in the aggregate.
                List<JsonNode> churn = out.get("support.ai.churn_risk");
                assertThat(churn).isNotEmpty();
                for (JsonNode r : churn) {
                    assertThat(r.get("status").asText()).isEqualTo("ok");
                    assertThat(r.at("/result/risk").asText()).isIn("low", "medium", "high");
                    assertThat(r.get("prompt_version").asText()).startsWith("v1-");
                }
                long withChurn =
                        out.get("support.ai.aggregated").stream()
                                .filter(a -> a.at("/agents/churn_risk/risk").isTextual())
                                .count();
                assertThat(withChurn).isPositive();

                // A conversation split across the switch: its version continued, and its first
                // summary after the switch was asked with the summary written before it.
                Set<String> keysBefore = new HashSet<>();
                for (var e : events.subList(0, half)) {
                    keysBefore.add(e.getKey());
                }
                List<LoopbackLlmServer.RecordedRequest> after =
                        new ArrayList<>(
                                llm.requests().subList(requestsBefore, llm.requests().size()));
                long rolled =
                        after.stream().filter(r -> r.body().contains("Previous summary: ")).count();
                long splitConversations =
                        events.subList(half, events.size()).stream()
                                .map(Map.Entry::getKey)
                                .filter(keysBefore::contains)
                                .distinct()
                                .count();
                assertThat(splitConversations).isPositive();
                JsonNode firstAfter = Json.MAPPER.readTree(events.get(half).getValue());
                String key =
                        firstAfter.get("tenant_id").asText()
                                + ":"
                                + firstAfter.get("conversation_id").asText();
                long versionsBefore =
                        events.subList(0, half).stream()
                                .filter(e -> e.getKey().equals(key))
                                .count();
                assertThat(
                                out.get("support.ai.aggregated").stream()
                                        .filter(
                                                a ->
                                                        (a.get("tenant_id").asText()
                                                                        + ":"
                                                                        + a.get("conversation_id")
                                                                                .asText())
                                                                .equals(key))
                                        .mapToLong(a -> a.get("version").asLong())
                                        .max()
                                        .orElse(0))
                        .isGreaterThan(versionsBefore);
                System.out.printf(
                        "add agent: %d conversations span the switch, %d LLM requests after it"
                                + " (%d roll a summary forward), %d churn_risk answers, %d"
                                + " aggregated records with agents.churn_risk%n",
                        splitConversations, after.size(), rolled, churn.size(), withChurn);
                assertThat(rolled).isPositive();
            } finally {
                cancel(job2);
            }
        }
    }
}
