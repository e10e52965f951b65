package io.signalstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Grafana dashboard queries the metrics the job exports under their Prometheus names, and every
 * metric of the operations guide has a panel.
 */
class GrafanaDashboardTest {

    @Test
    void panelsCoverTheMetrics() throws Exception {
        JsonNode d =
                new ObjectMapper()
                        .readTree(
                                OpsPaths.K8S
                                        .resolve("dashboard/signalstream-dashboard.json")
                                        .toFile());
        List<String> exprs = new ArrayList<>();
        for (JsonNode p : d.get("panels")) {
            assertThat(p.get("targets")).as(p.get("title").asText()).isNotEmpty();
            p.get("targets").forEach(t -> exprs.add(t.get("expr").asText()));
        }
        String all = String.join("\n", exprs);
        for (String metric :
                List.of(
                        "agent_provider_requests",
                        "agent_provider_latency_ms",
                        "agent_provider_failures",
                        "agent_provider_timeouts",
                        "agent_provider_fallbacks",
                        "agent_provider_retries",
                        "agent_provider_in_flight",
                        "agent_provider_prompt_tokens",
                        "agent_provider_completion_tokens",
                        "agent_provider_llm_cache_hits",
                        "end_to_end_latency_ms",
                        "dead_letters_reason_count",
                        "aggregated_complete",
                        "aggregated_partial",
                        "active_conversations",
                        "agent_provider_model_prompt_version_feedback_total",
                        "agent_provider_model_prompt_version_feedback_agreed",
                        "feedback_duplicates",
                        "pendingRecords")) {
            assertThat(all).as(metric).contains("flink_taskmanager_job_task_operator_" + metric);
        }
    }
}
