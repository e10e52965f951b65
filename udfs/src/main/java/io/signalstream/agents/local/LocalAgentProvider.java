package io.signalstream.agents.local;

import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.events.Usage;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code local} provider: deterministic in-process analyzers, no network. It runs them on a
 * bounded executor, off the task thread, exactly as a remote LLM call would run, so the async
 * operators behave the same with either provider.
 *
 * <ul>
 *   <li>pii: {@link PiiDetector} over the newest message (validated recognizers and the learned
 *       {@link PiiNameFinder}); each entity has its {@code score} (the recognizer's fixed level,
 *       which orders overlapping findings) and its calibrated {@code confidence} ({@link
 *       PiiDetector#confidence})
 *   <li>sentiment: the learned sentiment model ({@link LearnedModels#sentiment()}: logistic
 *       regression over word/character n-grams and the support-chat VADER scores) over the newest
 *       message; {@code confidence} is its calibrated probability
 *   <li>insights: {@link InsightsRules} over the customer's messages in the transcript window, the
 *       intent from the learned intent model ({@link LearnedModels#intent()}, which also reads the
 *       rules' intent) with its calibrated {@code confidence}. The rules' intent stands, and the
 *       answer carries no {@code confidence} (it is not calibrated, so {@code escalate:
 *       when-uncertain} escalates it), when it is one the model was not trained on ({@code
 *       technical_issue}, {@code product_inquiry}, {@code greeting}) and the model is below {@value
 *       #RULES_INTENT_OVERRIDE}, or when the rules found nothing ({@code other}) and the model is
 *       below {@value #RULES_INTENT_BELOW}
 *   <li>summary: {@link ExtractiveSummarizer} over the transcript window
 * </ul>
 */
public final class LocalAgentProvider implements AgentProvider {

    /** Provider name. */
    public static final String NAME = "local";

    /** Analyzer version written as {@code prompt_version}. */
    public static final String VERSION = "local-v2";

    /**
     * Model confidence from which it overrides a rules' intent it was not trained on (technical
     * issue, product inquiry, greeting): only when it is nearly sure.
     */
    public static final double RULES_INTENT_OVERRIDE = 0.9;

    /** Model confidence below which the rules' {@code other} (nothing found) is kept. */
    public static final double RULES_INTENT_BELOW = 0.5;

    private static final PiiDetector PII = new PiiDetector();
    private static final VaderSentimentAnalyzer VADER = VaderSentimentAnalyzer.forSupportChat();
    private static final InsightsRules RULES = new InsightsRules();
    private static final ExtractiveSummarizer SUMMARIZER = new ExtractiveSummarizer();

    private final ThreadPoolExecutor executor;

    /**
     * @param threads analyzer threads; the queue holds at most 1024 pending calls, beyond which a
     *     call fails fast (and is retried by the operator) instead of blocking
     */
    public LocalAgentProvider(int threads) {
        AtomicInteger n = new AtomicInteger();
        this.executor =
                new ThreadPoolExecutor(
                        threads,
                        threads,
                        60,
                        TimeUnit.SECONDS,
                        new ArrayBlockingQueue<>(1024),
                        r -> {
                            Thread t = new Thread(r, "local-agent-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        if (!AgentSpec.BUILT_IN.contains(agent)) {
            // Only configured with fallback-provider none (checked when the job is built).
            return CompletableFuture.completedFuture(
                    AgentResults.skipped(
                            snapshot,
                            agent,
                            NAME,
                            "the local provider cannot answer agent "
                                    + agent
                                    + " (it answers "
                                    + AgentSpec.BUILT_IN
                                    + ")"));
        }
        try {
            return CompletableFuture.supplyAsync(() -> run(agent, snapshot), executor);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Runs one agent synchronously on the calling thread.
     *
     * @throws IllegalArgumentException for an unknown agent
     */
    public static AgentResult run(String agent, ConversationSnapshot snapshot) {
        long start = System.nanoTime();
        String input = agentInput(agent, snapshot);
        Map<String, Object> result =
                switch (agent) {
                    case "pii" -> pii(input);
                    case "sentiment" -> sentiment(input);
                    case "insights" -> insights(snapshot);
                    case "summary" -> summary(snapshot);
                    default -> throw new IllegalArgumentException("unknown agent " + agent);
                };
        long latencyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        return new AgentResult(
                snapshot.tenantId(),
                snapshot.conversationId(),
                snapshot.version(),
                snapshot.lastMessage().messageId(),
                agent,
                AgentStatus.OK,
                NAME,
                "local-" + agent,
                VERSION,
                AgentResults.hash(agent + "\n" + input),
                latencyMs,
                1,
                Usage.NONE,
                result,
                null);
    }

    private static String agentInput(String agent, ConversationSnapshot s) {
        if ("pii".equals(agent) || "sentiment".equals(agent)) {
            return s.lastMessage().message();
        }
        StringBuilder sb = new StringBuilder();
        for (TranscriptEntry e : s.recentMessages()) {
            sb.append(e.sender()).append(": ").append(e.message()).append('\n');
        }
        return sb.toString();
    }

    static Map<String, Object> pii(String text) {
        List<PiiEntity> found = PII.detect(text);
        List<Map<String, Object>> entities = new ArrayList<>();
        for (PiiEntity e : found) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", e.type());
            m.put("start", e.start());
            m.put("end", e.end());
            m.put("score", e.score());
            m.put("confidence", PiiDetector.confidence(e));
            entities.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("has_pii", !found.isEmpty());
        out.put("entities", entities);
        out.put("redacted_text", PII.redact(text, found));
        return out;
    }

    static Map<String, Object> sentiment(String text) {
        SentimentScores s = VADER.analyze(text);
        LinearTextClassifier.Prediction p =
                LearnedModels.sentiment().predict(LearnedModels.sentimentFeatures(text, s));
        String label = p.label();
        double score =
                p.probabilities().getOrDefault("positive", 0.0)
                        - p.probabilities().getOrDefault("negative", 0.0);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("label", label);
        out.put("score", round(score));
        out.put("confidence", round(p.confidence()));
        out.put("emotion", emotion(label, score, text));
        out.put("reasoning", reasoning(p, s));
        return out;
    }

    /** "learned model: negative 0.81, neutral 0.15, positive 0.04; VADER compound -0.421". */
    static String reasoning(LinearTextClassifier.Prediction p, SentimentScores s) {
        StringBuilder sb = new StringBuilder("learned model:");
        p.probabilities()
                .forEach(
                        (l, v) ->
                                sb.append(' ')
                                        .append(l)
                                        .append(' ')
                                        .append(fixed(v, 2))
                                        .append(','));
        sb.setLength(sb.length() - 1);
        return sb.append("; ").append(reasoning(s)).toString();
    }

    /**
     * {@code String.format(Locale.ROOT, "VADER compound %.3f (positive %.2f, neutral %.2f, negative
     * %.2f)", ...)} without a Formatter per call (it was a fifth of the sentiment agent's time).
     */
    static String reasoning(SentimentScores s) {
        return "VADER compound "
                + fixed(s.compound(), 3)
                + " (positive "
                + fixed(s.positive(), 2)
                + ", neutral "
                + fixed(s.neutral(), 2)
                + ", negative "
                + fixed(s.negative(), 2)
                + ")";
    }

    /**
     * {@code %.<scale>f} of {@link java.util.Formatter} for a finite value: the digits of {@link
     * Double#toString(double)} rounded half-up, with a minus sign for negative values and -0.0.
     */
    static String fixed(double v, int scale) {
        if (!Double.isFinite(v)) {
            return String.format(Locale.ROOT, "%." + scale + "f", v);
        }
        String digits =
                new BigDecimal(Double.toString(Math.abs(v)))
                        .setScale(scale, RoundingMode.HALF_UP)
                        .toPlainString();
        return Double.compare(v, 0.0) < 0 ? "-" + digits : digits;
    }

    private static String emotion(String label, double score, String text) {
        if ("positive".equals(label)) {
            return score > 0.6 ? "delighted" : "satisfied";
        }
        if ("negative".equals(label)) {
            boolean shouting = text.contains("!!") || text.equals(text.toUpperCase(Locale.ROOT));
            return score < -0.6 || shouting ? "angry" : "frustrated";
        }
        return "calm";
    }

    static Map<String, Object> insights(ConversationSnapshot s) {
        List<String> earlier = new ArrayList<>();
        String latest = null;
        for (TranscriptEntry e : s.recentMessages()) {
            if ("customer".equals(e.sender())) {
                if (latest != null) {
                    earlier.add(latest);
                }
                latest = e.message();
            }
        }
        if (latest == null) {
            latest = s.lastMessage().message();
        }
        SentimentScores v = VADER.analyze(latest);
        String ruleIntent = RULES.analyze(latest, earlier, v.compound()).intent();
        LinearTextClassifier model = LearnedModels.intent();
        LinearTextClassifier.Prediction p =
                model.predict(LearnedModels.intentFeatures(latest, v, ruleIntent));
        boolean keepRules =
                "other".equals(ruleIntent)
                        ? p.confidence() < RULES_INTENT_BELOW
                        : !model.labels().contains(ruleIntent)
                                && p.confidence() < RULES_INTENT_OVERRIDE;
        String intent = keepRules ? ruleIntent : p.label();
        Insights i = RULES.analyze(latest, earlier, v.compound(), intent);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("intent", i.intent());
        if (!keepRules) {
            out.put("confidence", round(p.confidence()));
        }
        out.put("urgency", i.urgency());
        out.put("suggested_actions", new ArrayList<>(i.suggestedActions()));
        out.put("requires_escalation", i.requiresEscalation());
        out.put("topics", new ArrayList<>(i.topics()));
        return out;
    }

    static Map<String, Object> summary(ConversationSnapshot s) {
        List<Turn> turns = new ArrayList<>();
        for (TranscriptEntry e : s.recentMessages()) {
            turns.add(new Turn(e.sender(), e.message()));
        }
        Summary sum = SUMMARIZER.summarize(turns);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("summary", sum.summary());
        out.put("key_points", new ArrayList<>(sum.keyPoints()));
        out.put("resolution_status", sum.resolutionStatus());
        return out;
    }

    private static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
