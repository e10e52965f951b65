package io.signalstream.jobs;

import io.signalstream.agents.ProviderStats;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.JobOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the LLM bill costs per message with the default agents and triggers, all four agents on one
 * OpenAI-compatible provider (combined requests on, the default), on the real conversation file
 * against the loopback server: at most 0.6 requests and 300 prompt tokens per input message,
 * counted over everything sent (the server reports {@code prompt_tokens} as the request body's
 * characters / 4, so messages, schema and JSON envelope all count), while every agent still
 * answers, with status ok, every version it was scheduled for.
 */
class LlmCostITCase extends KafkaJobTestBase {

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void defaultAgentsCostAtMostAQuarterOfARequestBudget() throws Exception {
        try (LoopbackLlmServer llm = LoopbackLlmServer.start(LoopbackLlmServer.schemaAnswers())) {
            ProviderStats.of("openai").reset();
            Configuration conf = jobConf("llm-cost-itcase");
            conf.set(JobOptions.TRANSACTIONAL_ID_PREFIX, "llm-cost-itcase");
            for (String agent : AgentOptions.BUILT_IN_AGENTS) {
                conf.set(AgentOptions.provider(agent), "openai");
            }
            conf.set(ProviderOptions.baseUrl("openai"), llm.baseUrl());
            conf.set(ProviderOptions.model("openai"), "loopback");
            conf.set(AgentOptions.TIMEOUT, Duration.ofSeconds(60));
            conf.set(JobOptions.JOIN_WINDOW, Duration.ofSeconds(90));
            // the response log topic of the openai provider, now that agents are on it
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 3, (short) 1));

            List<String> lines = ConversationReplayer.readLines(null);
            Set<String> expected = new HashSet<>();
            Map<String, Integer> perConversation = new HashMap<>();
            for (String line : lines) {
                JsonNode n = Json.MAPPER.readTree(line);
                String key = n.get("tenant_id").asText() + ":" + n.get("conversation_id").asText();
                expected.add(key + "#" + perConversation.merge(key, 1, Integer::sum));
            }

            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.getExecutionEnvironment(conf);
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(env, "llm-cost-itcase");
            try {
                produce(conf.get(JobOptions.TOPIC_INPUT), ConversationReplayer.toEvents(lines));
                List<String> topics = new ArrayList<>(List.of("support.ai.aggregated"));
                AgentOptions.BUILT_IN_AGENTS.forEach(a -> topics.add("support.ai." + a));
                Map<String, List<JsonNode>> out =
                        KafkaOutputs.readCommitted(
                                broker.bootstrapServers(),
                                topics,
                                got -> got.get("support.ai.aggregated").size() >= expected.size(),
                                Duration.ofMinutes(4));

                // Every version is there, and every agent scheduled for it answered: ok.
                Set<String> ids = new HashSet<>();
                Map<String, Integer> scheduled = new TreeMap<>();
                for (JsonNode a : out.get("support.ai.aggregated")) {
                    ids.add(
                            a.get("tenant_id").asText()
                                    + ":"
                                    + a.get("conversation_id").asText()
                                    + "#"
                                    + a.get("version").asLong());
                    assertThat(a.get("complete").asBoolean()).as(a.toString()).isTrue();
                    assertThat(a.get("agents").isObject()).isTrue();
                }
                assertThat(ids).isEqualTo(expected);
                Map<String, Long> promptTokensByAgent = new TreeMap<>();
                for (String agent : AgentOptions.BUILT_IN_AGENTS) {
                    for (JsonNode r : out.get("support.ai." + agent)) {
                        assertThat(r.get("status").asText()).as(r.toString()).isEqualTo("ok");
                        assertThat(r.get("provider").asText()).isEqualTo("openai");
                        scheduled.merge(agent, 1, Integer::sum);
                        promptTokensByAgent.merge(
                                agent, r.at("/usage/prompt_tokens").asLong(), Long::sum);
                    }
                }
                assertThat(scheduled.keySet()).containsAll(AgentOptions.BUILT_IN_AGENTS);

                List<LoopbackLlmServer.RecordedRequest> requests = llm.requests();
                long promptTokens = 0;
                Map<String, Integer> byKind = new TreeMap<>();
                for (LoopbackLlmServer.RecordedRequest r : requests) {
                    promptTokens += r.body().length() / 4;
                    byKind.merge(String.valueOf(r.agent()), 1, Integer::sum);
                }
                requests.stream()
                        .filter(r -> "agents".equals(r.agent()))
                        .skip(40)
                        .findFirst()
                        .ifPresent(r -> System.out.println("a combined request: " + r.body()));
                double requestsPerMessage = requests.size() / (double) lines.size();
                double tokensPerMessage = promptTokens / (double) lines.size();
                System.out.printf(
                        "LLM cost: %d messages, %d requests (%.3f per message) by kind %s, %d"
                                + " prompt tokens (%.1f per message), agent answers %s, prompt"
                                + " tokens by agent %s, provider stats %s%n",
                        lines.size(),
                        requests.size(),
                        requestsPerMessage,
                        byKind,
                        promptTokens,
                        tokensPerMessage,
                        scheduled,
                        promptTokensByAgent,
                        ProviderStats.of("openai").snapshot());
                assertThat(requestsPerMessage).isLessThanOrEqualTo(0.6);
                assertThat(tokensPerMessage).isLessThanOrEqualTo(300);
            } finally {
                cancel(job);
            }
        }
    }
}
