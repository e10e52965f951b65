package io.signalstream.jobs;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.config.ProviderOptions;
import io.signalstream.functions.AgentProviders;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Agents as configuration: the example of the agents issue works as written (paths moved to a
 * temporary directory), built-in agents are the same mechanism, and an agent that cannot be
 * answered is refused when the job is built, naming the option to change.
 */
class AgentConfigurationTest {

    @TempDir Path dir;

    private Configuration yaml(String text) throws Exception {
        return JobConfigLoader.readFlinkYaml(
                new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    private Path write(String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    private Configuration example() throws Exception {
        Path prompt =
                write(
                        "churn_risk.v1.txt",
                        "### system\nHow likely is the customer to leave?\n### user\n"
                                + "{{transcript}}\n");
        Path schema =
                write(
                        "churn_risk.schema.json",
                        "{\"type\":\"object\",\"required\":[\"risk\"],\"properties\":"
                                + "{\"risk\":{\"type\":\"string\",\"enum\":[\"low\",\"high\"]}}}");
        return yaml(
                "signalstream:\n"
                        + "  agents:\n"
                        + "    enabled: pii;sentiment;insights;summary;churn_risk\n"
                        + "    churn_risk:\n"
                        + "      prompt: file:"
                        + prompt
                        + "   # or classpath:\n"
                        + "      schema: file:"
                        + schema
                        + "\n"
                        + "      trigger: customer-messages\n"
                        + "      context: window            # latest-message | window |"
                        + " rolling-summary\n"
                        + "      provider: openai\n");
    }

    @Test
    void theIssuesExampleWorksAsWritten() throws Exception {
        List<AgentSpec> specs = AgentProviders.specs(example());
        assertThat(specs)
                .extracting(AgentSpec::name)
                .containsExactly("pii", "sentiment", "insights", "summary", "churn_risk");
        AgentSpec churn = specs.get(4);
        assertThat(churn.provider()).isEqualTo("openai");
        assertThat(churn.fallbackProvider()).isEqualTo("none");
        assertThat(churn.hasFallback()).isFalse();
        assertThat(churn.context()).isEqualTo(AgentContext.WINDOW);
        assertThat(churn.trigger().mode()).isEqualTo(AgentTrigger.Mode.CUSTOMER_MESSAGES);
        assertThat(churn.promptLabel()).isEqualTo("v1");
        assertThat(churn.promptTemplate()).contains("How likely is the customer to leave?");
        assertThat(churn.schema()).contains("\"risk\"");
        // Built-in agents: the same mechanism, with their bundled files.
        AgentSpec summary = specs.get(3);
        assertThat(summary.promptTemplate()).contains("### system");
        assertThat(summary.context()).isEqualTo(AgentContext.ROLLING_SUMMARY);
        assertThat(summary.promptLabel()).isEqualTo("v2");
        assertThat(specs.get(0).context()).isEqualTo(AgentContext.LATEST_MESSAGE);

        // Built-in agents stay on local, churn_risk gets the openai operator.
        Map<String, List<AgentSpec>> ops =
                ConversationIntelligenceJob.agentOperators(specs, example());
        assertThat(ops.keySet())
                .containsExactly(
                        "agent-pii",
                        "agent-sentiment",
                        "agent-insights",
                        "agent-summary",
                        "agents-openai");
    }

    @Test
    void agentsOnOneRemoteProviderShareAnOperatorUnlessCombiningIsOff() throws Exception {
        Configuration conf = example();
        for (String a : List.of("pii", "sentiment", "insights", "summary")) {
            conf.setString("signalstream.agents." + a + ".provider", "openai");
        }
        List<AgentSpec> specs = AgentProviders.specs(conf);
        Map<String, List<AgentSpec>> ops = ConversationIntelligenceJob.agentOperators(specs, conf);
        assertThat(ops.keySet()).containsExactly("agents-openai");
        assertThat(ops.get("agents-openai")).hasSize(5);

        conf.set(ProviderOptions.combineAgents("openai"), false);
        assertThat(ConversationIntelligenceJob.agentOperators(specs, conf).keySet())
                .containsExactly(
                        "agent-pii",
                        "agent-sentiment",
                        "agent-insights",
                        "agent-summary",
                        "agent-churn_risk");
    }

    @Test
    void anAgentTheLocalProviderCannotAnswerIsRefusedAtBuildTime() throws Exception {
        Configuration onLocal = example();
        onLocal.setString("signalstream.agents.churn_risk.provider", "local");
        assertThatThrownBy(() -> AgentProviders.specs(onLocal))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("churn_risk")
                .hasMessageContaining("signalstream.agents.churn_risk.provider");

        // ... unless it has no fallback: then its results say skipped.
        onLocal.setString("signalstream.agents.churn_risk.fallback-provider", "none");
        assertThat(AgentProviders.specs(onLocal)).hasSize(5);

        Configuration localFallback = example();
        localFallback.setString("signalstream.agents.churn_risk.fallback-provider", "local");
        assertThatThrownBy(() -> AgentProviders.specs(localFallback))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fallback-provider");
    }

    @Test
    void aCustomAgentNeedsAPromptAndASchemaThatCanBeRead() throws Exception {
        Configuration noPrompt = example();
        noPrompt.setString("signalstream.agents.enabled", "pii;next_best_action");
        noPrompt.setString("signalstream.agents.next_best_action.provider", "openai");
        assertThatThrownBy(() -> AgentProviders.specs(noPrompt))
                .hasMessageContaining("signalstream.agents.next_best_action.prompt");

        Configuration missingFile = example();
        missingFile.setString(
                "signalstream.agents.churn_risk.schema", "file:" + dir.resolve("nope.json"));
        assertThatThrownBy(() -> AgentProviders.specs(missingFile))
                .hasMessageContaining("signalstream.agents.churn_risk.schema")
                .hasMessageContaining("nope.json");

        Configuration notJson = example();
        notJson.setString(
                "signalstream.agents.churn_risk.schema",
                "file:" + write("bad.schema.json", "{not json"));
        assertThatThrownBy(() -> AgentProviders.specs(notJson))
                .hasMessageContaining("schema of agent churn_risk is not JSON");

        Configuration noSections = example();
        noSections.setString(
                "signalstream.agents.churn_risk.prompt",
                "file:" + write("flat.v1.txt", "just a question"));
        assertThatThrownBy(() -> AgentProviders.specs(noSections))
                .hasMessageContaining("'### system' then a '### user' section");

        Configuration escalating = example();
        escalating.setString("signalstream.agents.summary.escalate", "when-uncertain");
        assertThatThrownBy(() -> AgentProviders.specs(escalating))
                .hasMessageContaining("only sentiment and insights");

        // insights now has a calibrated local confidence (its learned intent): accepted.
        Configuration insightsLocalFirst = example();
        insightsLocalFirst.setString("signalstream.agents.insights.escalate", "when-uncertain");
        assertThat(AgentProviders.specs(insightsLocalFirst).get(2).escalation())
                .isEqualTo(io.signalstream.agents.Escalation.WHEN_UNCERTAIN);

        Configuration twice = example();
        twice.setString("signalstream.agents.enabled", "pii;pii");
        assertThatThrownBy(() -> AgentProviders.specs(twice)).hasMessageContaining("twice");
    }
}
