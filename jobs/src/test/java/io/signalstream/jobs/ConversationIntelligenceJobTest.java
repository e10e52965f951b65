package io.signalstream.jobs;

import io.signalstream.config.AgentOptions;
import io.signalstream.config.ProviderOptions;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The job graph's wiring: stable uids everywhere, configuration errors caught at build time. */
class ConversationIntelligenceJobTest {

    private static StreamGraph graph(Configuration conf) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(new Configuration());
        ConversationIntelligenceJob.kafka(conf, new Properties()).build(env);
        return env.getStreamGraph();
    }

    @Test
    void everyOperatorHasAnExplicitUid() {
        StreamGraph g = graph(new Configuration());
        List<String> withoutUid = new ArrayList<>();
        List<String> uids = new ArrayList<>();
        for (StreamNode n : g.getStreamNodes()) {
            if (n.getTransformationUID() == null) {
                withoutUid.add(n.getOperatorName());
            } else {
                uids.add(n.getTransformationUID());
            }
        }
        assertThat(withoutUid).as("operators without uid").isEmpty();
        assertThat(uids).doesNotHaveDuplicates();
        assertThat(uids)
                .contains(
                        ConversationIntelligenceJob.UID_SOURCE,
                        ConversationIntelligenceJob.UID_STATE,
                        ConversationIntelligenceJob.UID_AGGREGATOR,
                        ConversationIntelligenceJob.agentUid("pii"),
                        ConversationIntelligenceJob.agentUid("sentiment"),
                        ConversationIntelligenceJob.agentUid("insights"),
                        ConversationIntelligenceJob.agentUid("summary"),
                        ConversationIntelligenceJob.UID_SINK_AGGREGATED,
                        ConversationIntelligenceJob.UID_SINK_LINEAGE,
                        ConversationIntelligenceJob.UID_SINK_DLQ,
                        ConversationIntelligenceJob.UID_SOURCE_FEEDBACK,
                        ConversationIntelligenceJob.UID_PARSE_FEEDBACK,
                        ConversationIntelligenceJob.UID_FEEDBACK_JOIN,
                        ConversationIntelligenceJob.UID_SINK_LEARNING_SIGNALS);
    }

    @Test
    void agentsOnACombiningProviderShareOneOperatorWithAStableUid() {
        Configuration conf = new Configuration();
        for (String agent : List.of("pii", "sentiment", "insights", "summary")) {
            conf.setString("signalstream.agents." + agent + ".provider", "openai");
        }
        List<String> withoutUid = new ArrayList<>();
        List<String> uids = new ArrayList<>();
        for (StreamNode n : graph(conf).getStreamNodes()) {
            if (n.getTransformationUID() == null) {
                withoutUid.add(n.getOperatorName());
            } else {
                uids.add(n.getTransformationUID());
            }
        }
        assertThat(withoutUid).as("operators without uid").isEmpty();
        assertThat(uids).doesNotHaveDuplicates();
        assertThat(uids)
                .contains(ConversationIntelligenceJob.providerUid("openai"), "select-agents-openai")
                .doesNotContain(
                        ConversationIntelligenceJob.agentUid("pii"),
                        ConversationIntelligenceJob.agentUid("summary"));
    }

    @Test
    void alertsHaveTheirOperatorAndSinkAndRefuseBadOptions() {
        List<String> uids = new ArrayList<>();
        graph(new Configuration())
                .getStreamNodes()
                .forEach(n -> uids.add(n.getTransformationUID()));
        assertThat(uids)
                .contains(
                        ConversationIntelligenceJob.UID_ALERTS,
                        ConversationIntelligenceJob.UID_SINK_ALERTS);

        Configuration typo = new Configuration();
        typo.setString("signalstream.alerts.tenants.acme.reply-overdue.sla-minutes", "5");
        assertThatThrownBy(() -> graph(typo))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("signalstream.alerts.tenants.acme.reply-overdue.sla-minutes");
        Configuration zeroSla = new Configuration();
        zeroSla.setString("signalstream.alerts.reply-overdue.sla", "0 s");
        assertThatThrownBy(() -> graph(zeroSla))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("signalstream.alerts.reply-overdue.sla");
    }

    @Test
    void onlyEnabledAgentsGetAnAsyncOperator() {
        Configuration conf = new Configuration();
        conf.set(AgentOptions.ENABLED, List.of("pii", "sentiment"));
        List<String> uids = new ArrayList<>();
        graph(conf).getStreamNodes().forEach(n -> uids.add(n.getTransformationUID()));
        assertThat(uids)
                .contains("agent-pii", "agent-sentiment")
                .doesNotContain("agent-insights", "agent-summary");
    }

    @Test
    void theFeedbackLoopCanBeTurnedOff() {
        Configuration conf = new Configuration();
        conf.set(io.signalstream.config.JobOptions.FEEDBACK_ENABLED, false);
        List<String> uids = new ArrayList<>();
        graph(conf).getStreamNodes().forEach(n -> uids.add(n.getTransformationUID()));
        assertThat(uids)
                .contains(ConversationIntelligenceJob.UID_SINK_DLQ)
                .doesNotContain(
                        ConversationIntelligenceJob.UID_SOURCE_FEEDBACK,
                        ConversationIntelligenceJob.UID_FEEDBACK_JOIN,
                        ConversationIntelligenceJob.UID_SINK_LEARNING_SIGNALS);
    }

    @Test
    void badAgentConfigurationFailsAtBuildTime() {
        Configuration unknownAgent = new Configuration();
        unknownAgent.set(AgentOptions.ENABLED, List.of("pii", "horoscope"));
        assertThatThrownBy(() -> graph(unknownAgent))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("horoscope");

        Configuration badTrigger = new Configuration();
        badTrigger.set(AgentOptions.trigger("pii"), "sometimes");
        assertThatThrownBy(() -> graph(badTrigger))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sometimes");

        Configuration badProviderName = new Configuration();
        badProviderName.set(AgentOptions.provider("summary"), "Oracle DB!");
        assertThatThrownBy(() -> graph(badProviderName))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Oracle DB!");

        Configuration badBaseUrl = new Configuration();
        badBaseUrl.set(AgentOptions.provider("summary"), "vllm");
        badBaseUrl.set(ProviderOptions.baseUrl("vllm"), "ftp://models.example/v1");
        assertThatThrownBy(() -> graph(badBaseUrl))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("signalstream.providers.vllm.base-url");
    }
}
