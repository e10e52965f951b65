package io.signalstream.jobs;

import io.signalstream.agents.AgentSpec;
import io.signalstream.config.JobOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.ChatMessage;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.functions.AgentAsyncFunction;
import io.signalstream.local.ConversationReplayer;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Exactly-once under injected failures, the way flink-connector-kafka's KafkaSinkITCase proves its
 * own: the whole job on the real conversations, with a test operator that throws while processing
 * records (between checkpoints), while taking a checkpoint and right after one completed, and an
 * agent that throws inside its async call. The job restarts from its checkpoints each time; a
 * read_committed consumer must see exactly one aggregated and one lineage record per (tenant,
 * conversation, version): no loss, no duplicate.
 */
class FailureInjectionITCase extends KafkaJobTestBase {

    /** Failures injected, by kind; static: shared by every restart of the job in this JVM. */
    static final Map<String, AtomicInteger> INJECTED = new ConcurrentHashMap<>();

    static final AtomicInteger MESSAGES_SEEN = new AtomicInteger();
    static final AtomicInteger SNAPSHOTS = new AtomicInteger();
    static final AtomicInteger COMPLETED_CHECKPOINTS = new AtomicInteger();
    static final AtomicInteger AGENT_CALLS = new AtomicInteger();

    /** Record counts (over all attempts) at which processing throws. */
    static final Set<Integer> FAIL_AT_MESSAGE = Set.of(150, 520, 900);

    /** Checkpoints (counted over all attempts) whose snapshot throws. */
    static final Set<Integer> FAIL_AT_SNAPSHOT = Set.of(3);

    /** Completed checkpoints whose notification throws. */
    static final Set<Integer> FAIL_AFTER_CHECKPOINT = Set.of(5);

    /** Agent calls (over all attempts and agents) that throw. */
    static final Set<Integer> FAIL_AT_AGENT_CALL = Set.of(700, 1600);

    static void inject(String kind) {
        INJECTED.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
        throw new RuntimeException("injected failure: " + kind);
    }

    /** Throws at chosen records, during chosen checkpoints and after chosen completions. */
    static final class FailingStage
            implements MapFunction<ChatMessage, ChatMessage>,
                    CheckpointedFunction,
                    CheckpointListener {
        private static final long serialVersionUID = 1L;

        @Override
        public ChatMessage map(ChatMessage m) {
            if (FAIL_AT_MESSAGE.contains(MESSAGES_SEEN.incrementAndGet())) {
                inject("while processing");
            }
            return m;
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {
            if (FAIL_AT_SNAPSHOT.contains(SNAPSHOTS.incrementAndGet())) {
                inject("during checkpoint");
            }
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {}

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            if (FAIL_AFTER_CHECKPOINT.contains(COMPLETED_CHECKPOINTS.incrementAndGet())) {
                inject("after checkpoint");
            }
        }
    }

    /** An agent whose async call throws at chosen calls. */
    static final class FailingAgentFunction extends AgentAsyncFunction {
        private static final long serialVersionUID = 1L;

        FailingAgentFunction(
                List<AgentSpec> agents, Configuration conf, long timeoutMs, int maxAttempts) {
            super(agents, conf, timeoutMs, maxAttempts);
        }

        @Override
        public void asyncInvoke(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
            if (FAIL_AT_AGENT_CALL.contains(AGENT_CALLS.incrementAndGet())) {
                inject("inside an agent");
            }
            super.asyncInvoke(snapshot, out);
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void exactlyOnceAcrossInjectedFailures() throws Exception {
        RealData data = new RealData();
        Configuration conf = restartingJobConf("failure-itcase", 20);
        conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(100));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        JobClient job =
                ConversationIntelligenceJob.kafka(conf, new Properties())
                        .withMessageStage(
                                messages ->
                                        messages.map(new FailingStage())
                                                .uid("test-failing-stage")
                                                .name("failing stage"))
                        .withAgentFunctions(FailingAgentFunction::new)
                        .executeAsync(env, "failure-itcase");
        try {
            // Produce in two halves so failures land while input is still arriving.
            var events = ConversationReplayer.toEvents(data.lines);
            produce(conf.get(JobOptions.TOPIC_INPUT), events.subList(0, events.size() / 2));
            Thread.sleep(1500);
            ConversationReplayer.produce(
                    broker.bootstrapServers(),
                    new Properties(),
                    conf.get(JobOptions.TOPIC_INPUT),
                    events.subList(events.size() / 2, events.size()),
                    400,
                    n -> {});

            var out =
                    KafkaOutputs.readCommitted(
                            broker.bootstrapServers(),
                            List.of("support.ai.aggregated", "support.lineage"),
                            got ->
                                    got.get("support.ai.aggregated").size()
                                                    >= data.expectedVersions.size()
                                            && got.get("support.lineage").size()
                                                    >= data.expectedVersions.size()
                                            && injectedTotal() >= 7,
                            Duration.ofMinutes(3));
            data.assertExactlyOnce(out);

            Map<String, Integer> injected = new TreeMap<>();
            INJECTED.forEach((k, v) -> injected.put(k, v.get()));
            System.out.printf(
                    "failure injection: inputs %d, injected %s, aggregated %d, lineage %d, expected"
                            + " %d%n",
                    data.lines.size(),
                    injected,
                    out.get("support.ai.aggregated").size(),
                    out.get("support.lineage").size(),
                    data.expectedVersions.size());
            assertThat(injected)
                    .containsEntry("while processing", 3)
                    .containsEntry("during checkpoint", 1)
                    .containsEntry("after checkpoint", 1)
                    .containsEntry("inside an agent", 2);
        } finally {
            cancel(job);
        }
    }

    private static int injectedTotal() {
        return INJECTED.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
