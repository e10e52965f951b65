package io.signalstream.llm;

import io.signalstream.agents.JitteredBackoffRetryStrategy;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonPointer;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.util.RawValue;
import org.asynchttpclient.BoundRequestBuilder;
import org.asynchttpclient.Response;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Client of an OpenAI-compatible {@code POST /chat/completions}: sends a {@link ChatCall}'s
 * messages with {@code response_format} {@code json_schema} (or {@code json_object}, with the
 * schema in the system message, for servers without it) until a 200 answer with message content
 * arrives, never blocking the caller.
 *
 * <p>Every attempt first passes the call's {@link ChatCall.Admission} and then must start before
 * the call's deadline; its HTTP timeout is the request timeout, cut to what is left of the deadline
 * (at least 100 ms). 429, 5xx, timeouts, connection errors, malformed bodies and answers without
 * content are retried after {@code max(Retry-After,} {@link
 * JitteredBackoffRetryStrategy#equalJitterMs equal-jitter backoff}{@code )} of the attempt number,
 * up to {@code maxAttempts} and only when the retry starts before the deadline; 400, 401, 403 and
 * 404 are not retried and are logged once. A 400 naming {@code response_format} to a json_schema
 * request switches the provider to json_object for good and re-sends without counting an attempt.
 */
final class ChatCompletionsClient {

    private final ProviderSettings settings;
    private final ProviderRuntime rt;

    /**
     * @param settings the provider
     * @param rt its runtime (HTTP client, scheduler, counters, json_schema flag)
     */
    ChatCompletionsClient(ProviderSettings settings, ProviderRuntime rt) {
        this.settings = settings;
        this.rt = rt;
    }

    /**
     * Sends the call's current messages (counting one more attempt on {@code call}) and retries as
     * described in the class comment.
     *
     * @return a future completed with the text of the first choice's message content; failed with
     *     {@link ChatCall.Failure} when the call gives up
     */
    CompletableFuture<String> complete(ChatCall call) {
        CompletableFuture<String> content = new CompletableFuture<>();
        new Exchange(call, content).attempt();
        return content;
    }

    /** The attempts of one {@link #complete} round. */
    private final class Exchange {
        private final ChatCall call;
        private final CompletableFuture<String> content;

        Exchange(ChatCall call, CompletableFuture<String> content) {
            this.call = call;
            this.content = content;
        }

        void attempt() {
            call.attempts++;
            call.admission
                    .admit()
                    .thenCompose(
                            v -> {
                                CompletableFuture<Response> sent;
                                try {
                                    if (call.pastDeadline()) {
                                        throw new DeadlineException();
                                    }
                                    sent = send();
                                } catch (RuntimeException e) {
                                    sent = CompletableFuture.failedFuture(e);
                                }
                                return sent.whenComplete((r, e) -> call.admission.release());
                            })
                    .whenComplete(
                            (response, error) -> {
                                try {
                                    handle(response, error);
                                } catch (RuntimeException e) {
                                    content.completeExceptionally(
                                            new ChatCall.Failure("unexpected error: " + e, false));
                                }
                            });
        }

        /** Bytes of the request body last sent, for the usage estimate. */
        private volatile long sentBytes;

        private CompletableFuture<Response> send() {
            long remainingMs =
                    TimeUnit.NANOSECONDS.toMillis(call.deadlineNanos - System.nanoTime());
            Duration timeout =
                    Duration.ofMillis(
                            Math.max(
                                    100,
                                    Math.min(settings.requestTimeout().toMillis(), remainingMs)));
            BoundRequestBuilder request =
                    rt.http
                            .preparePost(settings.baseUrl() + "/chat/completions")
                            .setHeader("Content-Type", "application/json")
                            .setRequestTimeout(timeout);
            byte[] bytes = body();
            sentBytes = bytes.length;
            request.setBody(bytes);
            if (rt.apiKey != null) {
                request.setHeader("Authorization", "Bearer " + rt.apiKey);
            }
            rt.stats.requests.incrementAndGet();
            return request.execute().toCompletableFuture();
        }

        /**
         * The request body, written straight to bytes: the same JSON as the tree {@code {model,
         * temperature, max_tokens, messages[{role, content}], response_format}} serialized by
         * {@link Json#MAPPER}, without building the tree; {@code response_format} (with the schema)
         * is serialized once per prompt.
         */
        private byte[] body() {
            boolean jsonSchema = rt.jsonSchemaSupported.get();
            call.sentJsonSchema = jsonSchema;
            int size = 256;
            for (ChatCall.Message m : call.messages) {
                size += m.content().length() + 32;
            }
            ByteArrayBuilder out = new ByteArrayBuilder(size + 64);
            try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
                g.writeStartObject();
                g.writeStringField("model", settings.model());
                g.writeNumberField("temperature", settings.temperature());
                g.writeNumberField("max_tokens", settings.maxTokens());
                g.writeArrayFieldStart("messages");
                for (int i = 0; i < call.messages.size(); i++) {
                    ChatCall.Message m = call.messages.get(i);
                    String content = m.content();
                    if (i == 0 && !jsonSchema) {
                        content =
                                content
                                        + "\nThe JSON must match this schema:\n"
                                        + schemaAsSent(call.prompt, settings.strictSchema());
                    }
                    g.writeStartObject();
                    g.writeStringField("role", m.role());
                    g.writeStringField("content", content);
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeFieldName("response_format");
                g.writeRawValue(responseFormat(call.prompt, jsonSchema));
                g.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the request body", e);
            }
            return out.toByteArray();
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
            if (status == 200) {
                onOk(response.getResponseBodyAsBytes());
                return;
            }
            String text = response.getResponseBody(StandardCharsets.UTF_8);
            if (status == 400 && call.sentJsonSchema && text.contains("response_format")) {
                // The server lacks structured output: use json_object from now on. Calls
                // already in flight with json_schema take this branch too, whatever the
                // shared flag says by now.
                if (rt.jsonSchemaSupported.compareAndSet(true, false)) {
                    rt.warnOnce(
                            "json_schema",
                            "server rejects response_format json_schema; using json_object");
                }
                call.attempts--;
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

        private void onOk(byte[] body) {
            JsonNode envelope;
            try {
                envelope = Json.MAPPER.readTree(body);
            } catch (Exception e) {
                retryOrFail("malformed response body", 0);
                return;
            }
            // A server that reports no usage: estimated as characters / 4 of what was sent and
            // of the answer's content.
            JsonNode usage = envelope.path("usage");
            long prompt =
                    usage.path("prompt_tokens").isNumber()
                            ? usage.path("prompt_tokens").asLong()
                            : sentBytes / 4;
            long completion =
                    usage.path("completion_tokens").isNumber()
                            ? usage.path("completion_tokens").asLong()
                            : envelope.at(CONTENT).asText("").length() / 4;
            call.promptTokens += prompt;
            call.completionTokens += completion;
            rt.stats.promptTokens.addAndGet(prompt);
            rt.stats.completionTokens.addAndGet(completion);
            call.admission.used(prompt, completion);
            JsonNode message = envelope.at(CONTENT);
            if (!message.isTextual()) {
                retryOrFail("response without message content", 0);
                return;
            }
            content.complete(message.asText());
        }

        private void retryOrFail(String reason, long retryAfterMs) {
            if (call.attempts < settings.maxAttempts()) {
                long backoff =
                        Math.max(
                                retryAfterMs,
                                JitteredBackoffRetryStrategy.equalJitterMs(
                                        settings.initialBackoff().toMillis(),
                                        settings.maxBackoff().toMillis(),
                                        call.attempts));
                if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoff)
                        < call.deadlineNanos) {
                    rt.stats.retries.incrementAndGet();
                    rt.scheduler.schedule(this::attempt, backoff, TimeUnit.MILLISECONDS);
                    return;
                }
            }
            giveUp(reason);
        }

        private void giveUp(String reason) {
            content.completeExceptionally(new ChatCall.Failure(reason, true));
        }
    }

    /** Where a chat completion's answer is. */
    private static final JsonPointer CONTENT = JsonPointer.compile("/choices/0/message/content");

    /** {@code response_format} as sent (JSON text), by prompt: json_schema and json_object. */
    private final Map<AgentPrompt, String> schemaFormats = new ConcurrentHashMap<>();

    private static final String JSON_OBJECT_FORMAT = "{\"type\":\"json_object\"}";

    /**
     * {@code {"type": "json_schema", "json_schema": {"name": "signalstream_<agent>", "strict": …,
     * "schema": …}}}, or {@code {"type": "json_object"}}, serialized once per prompt.
     */
    private String responseFormat(AgentPrompt prompt, boolean jsonSchema) {
        if (!jsonSchema) {
            return JSON_OBJECT_FORMAT;
        }
        return schemaFormats.computeIfAbsent(
                prompt,
                p -> {
                    ObjectNode format = Json.MAPPER.createObjectNode();
                    format.put("type", "json_schema");
                    ObjectNode js = format.putObject("json_schema");
                    js.put("name", "signalstream_" + p.agent());
                    js.put("strict", settings.strictSchema());
                    js.putRawValue(
                            "schema", new RawValue(schemaAsSent(p, settings.strictSchema())));
                    return Json.toString(format);
                });
    }

    /**
     * The schema as sent, by prompt, serialized once (prompts are loaded once per JVM and combined
     * prompts once per provider and combination).
     */
    private static final Map<AgentPrompt, String> STRICT_SCHEMAS = new ConcurrentHashMap<>();

    private static final Map<AgentPrompt, String> COMPACT_SCHEMAS = new ConcurrentHashMap<>();

    /** Keywords strict structured output rejects. */
    private static final List<String> NOT_STRICT =
            List.of("$schema", "title", "minimum", "maximum");

    /** What the compact form leaves out as well: the answer is validated against them anyway. */
    private static final List<String> NOT_COMPACT =
            List.of("$schema", "title", "minimum", "maximum", "required", "additionalProperties");

    /**
     * The schema as sent (JSON text): strict, without the keywords strict structured output
     * rejects; compact, also without {@code required} and {@code additionalProperties}, and without
     * {@code type} where {@code properties}, {@code enum} or {@code items} implies it.
     */
    static String schemaAsSent(AgentPrompt prompt, boolean strict) {
        return (strict ? STRICT_SCHEMAS : COMPACT_SCHEMAS)
                .computeIfAbsent(
                        prompt,
                        p -> {
                            JsonNode copy = p.schema().deepCopy();
                            strip(copy, strict ? NOT_STRICT : NOT_COMPACT);
                            return Json.toString(copy);
                        });
    }

    private static void strip(JsonNode node, List<String> keywords) {
        if (node instanceof ObjectNode o) {
            JsonNode props = o.get("properties");
            o.remove(keywords);
            if (keywords == NOT_COMPACT && (props != null || o.has("enum") || o.has("items"))) {
                // implied by properties (object), enum values (their type) or items (array)
                o.remove("type");
            }
            Iterator<JsonNode> it = o.elements();
            while (it.hasNext()) {
                JsonNode child = it.next();
                if (child == props) {
                    // property names are not keywords: strip inside each property only
                    props.elements().forEachRemaining(p -> strip(p, keywords));
                } else {
                    strip(child, keywords);
                }
            }
        } else if (node instanceof ArrayNode a) {
            a.forEach(n -> strip(n, keywords));
        }
    }

    /** See {@link JitteredBackoffRetryStrategy#retryAfterMs}. */
    static long retryAfterMs(String header) {
        return JitteredBackoffRetryStrategy.retryAfterMs(header);
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

    /** The call's deadline passed before its request could be sent. */
    private static final class DeadlineException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DeadlineException() {
            super("deadline passed", null, false, false);
        }
    }
}
