package io.signalstream.agents;

import io.signalstream.events.AgentResult;
import io.signalstream.events.ConversationSnapshot;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

/**
 * Calls one agent for a conversation snapshot through Flink async I/O.
 *
 * <p>The provider is created in {@link #open} and answers on its own threads; the callback only
 * completes the {@link ResultFuture}, so the task thread never blocks. A call that fails
 * becomes a {@code failed} result (which the operator's retry strategy may retry) and a call
 * that outlives the operator timeout becomes a {@code timeout} result: an agent can never fail
 * the job or lose the record. The function holds no state; everything it needs travels in the
 * snapshot.
 */
public class AgentAsyncFunction extends RichAsyncFunction<ConversationSnapshot, AgentResult> {

    private static final long serialVersionUID = 1L;

    private final AgentSpec spec;
    private final Configuration conf;
    private final long timeoutMs;

    private transient AgentProvider provider;
    private transient Counter timeouts;
    private transient Counter failures;

    /**
     * @param spec the agent
     * @param conf job configuration, for the provider's settings
     * @param timeoutMs the async operator's timeout in milliseconds, reported in timeout results
     */
    public AgentAsyncFunction(AgentSpec spec, Configuration conf, long timeoutMs) {
        this.spec = spec;
        this.conf = conf;
        this.timeoutMs = timeoutMs;
    }

    @Override
    public void open(OpenContext openContext) {
        provider = AgentProviders.create(spec.provider(), conf);
        var group =
                getRuntimeContext()
                        .getMetricGroup()
                        .addGroup("agent", spec.name())
                        .addGroup("provider", spec.provider());
        timeouts = group.counter("timeouts");
        failures = group.counter("failures");
    }

    @Override
    public void asyncInvoke(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        CompletableFuture<AgentResult> call;
        try {
            call = provider.analyze(spec.name(), snapshot);
        } catch (RuntimeException e) {
            failures.inc();
            out.complete(List.of(AgentResults.failed(snapshot, spec.name(), spec.provider(), e)));
            return;
        }
        call.whenComplete(
                (result, error) -> {
                    if (error != null) {
                        failures.inc();
                        out.complete(
                                List.of(
                                        AgentResults.failed(
                                                snapshot, spec.name(), spec.provider(), error)));
                    } else {
                        out.complete(List.of(result));
                    }
                });
    }

    @Override
    public void timeout(ConversationSnapshot snapshot, ResultFuture<AgentResult> out) {
        timeouts.inc();
        out.complete(
                List.of(AgentResults.timeout(snapshot, spec.name(), spec.provider(), timeoutMs)));
    }

    @Override
    public void close() {
        if (provider != null) {
            provider.close();
        }
    }
}
