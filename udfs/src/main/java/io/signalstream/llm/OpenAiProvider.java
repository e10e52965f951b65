package io.signalstream.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.signalstream.agents.ProviderException;
import io.signalstream.agents.AgentProvider;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.JitteredBackoffRetryStrategy;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.Usage;
import io.signalstream.serde.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.asynchttpclient.BoundRequestBuilder;
import org.asynchttpclient.Response;

/**
 * An agent provider that calls an OpenAI-compatible {@code /v1/chat/completions} server over
 * async-http-client, never blocking the caller.
 *
 * <p>One call: render the agent's prompt (PII redacted by default) → answer from the response
 * cache if the same (provider, model, prompt) was answered before → refuse if the circuit is
 * open → wait (without a thread) for the request and token budget and an in-flight slot → POST
 * with {@code response_format} {@code json_schema} (or {@code json_object} for servers without
 * it) → validate the answer against the agent's schema, with one repair request if it breaks
 * it. 429, 5xx, timeouts, connection errors and malformed bodies are retried with jittered
 * exponential backoff computed from the attempt number, honouring {@code Retry-After}, as long
 * as the call's deadline allows; 400, 401, 403 and 404 are not retried and are logged once.
 * A call without a valid answer completes exceptionally with a {@link ProviderException}, which
 * {@link io.signalstream.agents.FallbackAgentProvider} turns into the fallback provider's answer.
 */
public final class OpenAiProvider implements AgentProvider {

    /** Prompt template version of every agent. */
    public static final String PROMPT_VERSION = "v1";

    private static final PiiDetector PII = new PiiDetector();

    private final ProviderSettings settings;
    private final ProviderRuntime rt;

    /** @param settings the provider; its shared runtime is acquired here and released on close */
    public OpenAiProvider(ProviderSettings settings) {
        this.settings = settings;
        this.rt = ProviderRuntime.acquire(settings);
    }

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public CompletableFuture<AgentResult> analyze(String agent, ConversationSnapshot snapshot) {
        long start = System.nanoTime();
        AgentPrompt prompt = AgentPrompt.of(agent, PROMPT_VERSION);
        AgentPrompt.Rendered rendered = prompt.render(snapshot, settings.redactPii());
        String cacheKey =
                AgentResults.hash(
                        settings.name() + "\n" + settings.model() + "\n" + prompt.promptVersion()
                                + "\n" + rendered.system() + "\n" + rendered.user());
        if (rt.cache != null) {
            JsonNode cached = rt.cache.getIfPresent(cacheKey);
            if (cached != null) {
                rt.stats.cacheHits.incrementAndGet();
                return CompletableFuture.completedFuture(
                        result(snapshot, agent, prompt, cacheKey, cached, Usage.NONE, 0, start));
            }
            rt.stats.cacheMisses.incrementAndGet();
        }
        if (!rt.breaker.allowRequest()) {
            rt.stats.circuitRejections.incrementAndGet();
            return CompletableFuture.failedFuture(
                    new ProviderException("circuit open for provider " + settings.name(), 0));
        }
        Call call = new Call(snapshot.tenantId(), prompt, rendered, start);
        return call.run()
                .thenApply(
                        answer -> {
                            if (rt.cache != null) {
                                rt.cache.put(cacheKey, answer);
                            }
                            return result(
                                    snapshot, agent, prompt, cacheKey, answer,
                                    new Usage(call.promptTokens, call.completionTokens),
                                    call.attempts, start);
                        });
    }

    private AgentResult result(
            ConversationSnapshot s,
            String agent,
            AgentPrompt prompt,
            String promptHash,
            JsonNode answer,
            Usage usage,
            int attempts,
            long startNanos) {
        Map<String, Object> result =
                "pii".equals(agent) ? piiResult(s.lastMessage().message(), answer) : toMap(answer);
        return new AgentResult(
                s.tenantId(),
                s.conversationId(),
                s.version(),
                s.lastMessage().messageId(),
                agent,
                AgentStatus.OK,
                settings.name(),
                settings.model(),
                prompt.promptVersion(),
                promptHash,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos),
                attempts,
                usage,
                result,
                null);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> toMap(JsonNode answer) {
        return Json.MAPPER.convertValue(answer, LinkedHashMap.class);
    }

    /**
     * The PII answer in the job's shape: the local recognizers' spans plus the spans of every
     * entity the model named that occurs in the original message (the model saw the redacted
     * text, so placeholders are skipped), with offsets into the original message and the
     * redacted text made from all of them.
     */
    static Map<String, Object> piiResult(String original, JsonNode answer) {
        List<PiiEntity> spans = new ArrayList<>(PII.detect(original));
        for (JsonNode e : answer.path("entities")) {
            String text = e.path("text").asText("").strip();
            if (text.isEmpty() || text.startsWith("<")) {
                continue;
            }
            int from = 0;
            int at;
            while ((at = original.indexOf(text, from)) >= 0) {
                PiiEntity candidate =
                        new PiiEntity(e.path("type").asText("OTHER"), at, at + text.length(), 0.7, text);
                if (spans.stream().noneMatch(candidate::overlaps)) {
                    spans.add(candidate);
                }
                from = at + text.length();
            }
        }
        spans.sort((a, b) -> Integer.compare(a.start(), b.start()));
        List<Map<String, Object>> entities = new ArrayList<>();
        for (PiiEntity p : spans) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", p.type());
            m.put("start", p.start());
            m.put("end", p.end());
            m.put("score", p.score());
            entities.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("has_pii", !spans.isEmpty());
        out.put("entities", entities);
        out.put("redacted_text", PII.redact(original, spans));
        return out;
    }

    @Override
    public void close() {
        rt.release();
    }

    /** One agent call: its attempts, the repair request and the token usage. */
    private final class Call {
        private final String tenant;
        private final AgentPrompt prompt;
        private final List<ObjectNode> messages = new ArrayList<>();
        private final long estimatedTokens;
        private final long deadlineNanos;
        private final CompletableFuture<JsonNode> outcome = new CompletableFuture<>();
        int attempts;
        private boolean repaired;
        /** Whether the request in flight asked for json_schema (the shared flag may flip meanwhile). */
        private volatile boolean sentJsonSchema;
        long promptTokens;
        long completionTokens;

        Call(String tenant, AgentPrompt prompt, AgentPrompt.Rendered rendered, long startNanos) {
            this.tenant = tenant;
            this.prompt = prompt;
            this.estimatedTokens = rendered.estimatedTokens() + settings.maxTokens();
            this.deadlineNanos = startNanos + settings.callDeadline().toNanos();
            messages.add(message("system", rendered.system()));
            messages.add(message("user", rendered.user()));
        }

        CompletableFuture<JsonNode> run() {
            attempt();
            return outcome;
        }

        private void attempt() {
            attempts++;
            rt.budget
                    .acquire(tenant, estimatedTokens)
                    .thenCompose(v -> rt.inFlight.acquire())
                    .thenCompose(
                            v -> {
                                CompletableFuture<Response> sent;
                                try {
                                    if (System.nanoTime() >= deadlineNanos) {
                                        throw new DeadlineException();
                                    }
                                    sent = send();
                                } catch (RuntimeException e) {
                                    sent = CompletableFuture.failedFuture(e);
                                }
                                return sent.whenComplete((r, e) -> rt.inFlight.release());
                            })
                    .whenComplete(
                            (response, error) -> {
                                try {
                                    handle(response, error);
                                } catch (RuntimeException e) {
                                    fail("unexpected error: " + e);
                                }
                            });
        }

        private CompletableFuture<Response> send() {
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            Duration timeout =
                    Duration.ofMillis(
                            Math.max(100, Math.min(settings.requestTimeout().toMillis(), remainingMs)));
            BoundRequestBuilder request =
                    rt.http.preparePost(settings.baseUrl() + "/chat/completions")
                            .setHeader("Content-Type", "application/json")
                            .setRequestTimeout(timeout)
                            .setBody(Json.toBytes(body()));
            if (rt.apiKey != null) {
                request.setHeader("Authorization", "Bearer " + rt.apiKey);
            }
            rt.stats.requests.incrementAndGet();
            return request.execute().toCompletableFuture();
        }

        private ObjectNode body() {
            ObjectNode body = Json.MAPPER.createObjectNode();
            body.put("model", settings.model());
            body.put("temperature", settings.temperature());
            body.put("max_tokens", settings.maxTokens());
            ArrayNode msgs = body.putArray("messages");
            boolean jsonSchema = rt.jsonSchemaSupported.get();
            sentJsonSchema = jsonSchema;
            for (int i = 0; i < messages.size(); i++) {
                ObjectNode m = messages.get(i).deepCopy();
                if (i == 0 && !jsonSchema) {
                    m.put("content", m.get("content").asText()
                            + "\nThe JSON must match this schema:\n" + Json.toString(strictSchema()));
                }
                msgs.add(m);
            }
            ObjectNode format = body.putObject("response_format");
            if (jsonSchema) {
                format.put("type", "json_schema");
                ObjectNode js = format.putObject("json_schema");
                js.put("name", "signalstream_" + prompt.agent());
                js.put("strict", true);
                js.set("schema", strictSchema());
            } else {
                format.put("type", "json_object");
            }
            return body;
        }

        /** The schema as sent: without the keywords strict structured output rejects. */
        private JsonNode strictSchema() {
            JsonNode copy = prompt.schema().deepCopy();
            strip(copy);
            return copy;
        }

        private void strip(JsonNode node) {
            if (node instanceof ObjectNode o) {
                o.remove(List.of("$schema", "title", "minimum", "maximum"));
                Iterator<JsonNode> it = o.elements();
                while (it.hasNext()) {
                    strip(it.next());
                }
            } else if (node instanceof ArrayNode a) {
                a.forEach(this::strip);
            }
        }

        private void handle(Response response, Throwable error) {
            if (error != null) {
                Throwable root = error;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                if (root instanceof DeadlineException) {
                    giveUp("deadline passed while waiting for budget or a free slot");
                } else if (root instanceof IllegalArgumentException) {
                    // e.g. a prompt larger than the whole tokens-per-minute budget
                    giveUp("configuration: " + root.getMessage());
                } else {
                    retryOrFail(describe(root), 0);
                }
                return;
            }
            int status = response.getStatusCode();
            String text = response.getResponseBody(StandardCharsets.UTF_8);
            if (status == 200) {
                onOk(text);
            } else if (status == 400 && sentJsonSchema && text.contains("response_format")) {
                // The server lacks structured output: use json_object from now on. Calls
                // already in flight with json_schema take this branch too, whatever the
                // shared flag says by now.
                if (rt.jsonSchemaSupported.compareAndSet(true, false)) {
                    rt.warnOnce("json_schema", "server rejects response_format json_schema; using json_object");
                }
                attempts--;
                attempt();
            } else if (status == 400 || status == 401 || status == 403 || status == 404) {
                String reason = "HTTP " + status + ": " + errorMessage(text);
                rt.warnOnce("status-" + status, reason + " (not retried)");
                giveUp(reason);
            } else if (status == 429 || status >= 500) {
                retryOrFail("HTTP " + status, retryAfterMs(response.getHeader("Retry-After")));
            } else {
                giveUp("HTTP " + status + ": " + errorMessage(text));
            }
        }

        private void onOk(String text) {
            JsonNode envelope;
            try {
                envelope = Json.MAPPER.readTree(text);
            } catch (Exception e) {
                retryOrFail("malformed response body", 0);
                return;
            }
            promptTokens += envelope.at("/usage/prompt_tokens").asLong(0);
            completionTokens += envelope.at("/usage/completion_tokens").asLong(0);
            rt.stats.promptTokens.addAndGet(envelope.at("/usage/prompt_tokens").asLong(0));
            rt.stats.completionTokens.addAndGet(envelope.at("/usage/completion_tokens").asLong(0));
            rt.budget.reconcile(
                    tenant,
                    estimatedTokens,
                    envelope.at("/usage/prompt_tokens").asLong(0)
                            + envelope.at("/usage/completion_tokens").asLong(0));
            JsonNode content = envelope.at("/choices/0/message/content");
            if (!content.isTextual()) {
                retryOrFail("response without message content", 0);
                return;
            }
            String raw = stripFences(content.asText());
            List<String> problems;
            JsonNode answer = null;
            try {
                answer = Json.MAPPER.readTree(raw);
                problems = answer == null ? List.of("empty answer") : prompt.validate(answer);
            } catch (Exception e) {
                problems = List.of("answer is not JSON");
            }
            if (problems.isEmpty()) {
                rt.breaker.onSuccess();
                outcome.complete(answer);
            } else if (!repaired && System.nanoTime() < deadlineNanos) {
                repaired = true;
                rt.stats.repairs.incrementAndGet();
                messages.add(message("assistant", content.asText()));
                messages.add(
                        message(
                                "user",
                                "Your answer does not match the schema: "
                                        + String.join("; ", problems)
                                        + ". Reply again with only the corrected JSON object."));
                attempt();
            } else {
                giveUp("answer does not match the schema: " + String.join("; ", problems));
            }
        }

        private void retryOrFail(String reason, long retryAfterMs) {
            if (attempts < settings.maxAttempts()) {
                long backoff =
                        Math.max(
                                retryAfterMs,
                                JitteredBackoffRetryStrategy.equalJitterMs(
                                        settings.initialBackoff().toMillis(),
                                        settings.maxBackoff().toMillis(),
                                        attempts));
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff) < deadlineNanos) {
                    rt.stats.retries.incrementAndGet();
                    rt.scheduler.schedule(this::attempt, backoff, TimeUnit.MILLISECONDS);
                    return;
                }
            }
            giveUp(reason);
        }

        private void giveUp(String reason) {
            rt.breaker.onFailure();
            fail(reason);
        }

        private void fail(String reason) {
            rt.stats.failures.incrementAndGet();
            outcome.completeExceptionally(
                    new ProviderException(reason + " (" + attempts + " attempts)", attempts));
        }

    }

    /** The call's deadline passed before its request could be sent. */
    private static final class DeadlineException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeadlineException() {
            super("deadline passed", null, false, false);
        }
    }

    private static ObjectNode message(String role, String content) {
        ObjectNode m = Json.MAPPER.createObjectNode();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** Removes Markdown code fences some models put around JSON. */
    static String stripFences(String s) {
        String t = s.strip();
        if (t.startsWith("```")) {
            int nl = t.indexOf('\n');
            int end = t.lastIndexOf("```");
            if (nl > 0 && end > nl) {
                return t.substring(nl + 1, end).strip();
            }
        }
        return t;
    }

    /**
     * Milliseconds to wait from a {@code Retry-After} header: delta-seconds or an HTTP date
     * (RFC 9110 §10.2.3); 0 when absent or unreadable.
     */
    static long retryAfterMs(String header) {
        if (header == null || header.isBlank()) {
            return 0;
        }
        String h = header.strip();
        try {
            return Math.max(0, (long) (Double.parseDouble(h) * 1000));
        } catch (NumberFormatException e) {
            try {
                ZonedDateTime when = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME);
                return Math.max(0, when.toInstant().toEpochMilli() - System.currentTimeMillis());
            } catch (RuntimeException e2) {
                return 0;
            }
        }
    }

    private static String errorMessage(String body) {
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            String m = n.at("/error/message").asText(null);
            if (m != null) {
                return m;
            }
        } catch (Exception e) {
            // not JSON: use the text
        }
        String t = body == null ? "" : body.strip();
        return t.length() > 200 ? t.substring(0, 200) + "…" : t;
    }

    private static String describe(Throwable t) {
        String name = t.getClass().getSimpleName();
        if (name.toLowerCase(Locale.ROOT).contains("timeout")) {
            return "request timed out";
        }
        return "connection error: " + name + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
