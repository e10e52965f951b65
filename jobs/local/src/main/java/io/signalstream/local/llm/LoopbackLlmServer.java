package io.signalstream.local.llm;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real HTTP server on {@code 127.0.0.1} that speaks the OpenAI chat-completions protocol ({@code
 * POST /v1/chat/completions}) with scripted answers, delays and faults. It is meant for unit tests,
 * integration tests (the whole Flink job against it) and benchmarks; it never binds to anything but
 * the loopback interface.
 *
 * <p>Request handling, in this order:
 *
 * <ol>
 *   <li>Every request, whatever its method and path, is read completely and recorded (see {@link
 *       #requests()}) before anything is answered.
 *   <li>A path other than {@code /v1/chat/completions} (a trailing {@code /} is tolerated) gets 404
 *       with an OpenAI-style error body; a method other than {@code POST} gets 405 with {@code
 *       Allow: POST}.
 *   <li>If {@link #setRejectJsonSchema(boolean)} is on and {@code response_format.type} is {@code
 *       json_schema}, the answer is 400 {@value #JSON_SCHEMA_UNSUPPORTED_BODY}.
 *   <li>Otherwise the current {@link Responder} decides. A responder that throws, or returns null,
 *       produces a 500 with an error body.
 * </ol>
 *
 * <p>Concurrency: requests are served by a pool of up to {@value #MAX_WORKER_THREADS} daemon worker
 * threads (idle ones expire after 30 s; further requests queue). A reply's {@link Reply#delayMs()
 * delay} does not occupy a worker: the reply is scheduled on a timer and sent when due, so
 * thousands of delayed requests can be in flight at once. Responders may be called concurrently
 * from several threads and must be thread-safe; all responders of this class are.
 *
 * <p>Unless the system property {@code sun.net.httpserver.nodelay} is already set, loading this
 * class sets it to {@code true} (TCP_NODELAY for the JDK HTTP server of the whole JVM), so that the
 * JDK server's separate header and body writes do not meet Nagle's algorithm and delayed ACKs (up
 * to 40 ms per keep-alive request otherwise).
 *
 * <p>Usage:
 *
 * <pre>{@code
 * try (LoopbackLlmServer llm = LoopbackLlmServer.start()) {
 *     conf.set("...base-url", llm.baseUrl());            // http://127.0.0.1:PORT/v1
 *     llm.setResponder(LoopbackLlmServer.faulty(LoopbackLlmServer.schemaAnswers(), 0.2, 42, 50));
 *     ...
 *     assertThat(llm.requests())
 *             .allMatch(r -> "Bearer key".equals(r.headers().get("authorization")));
 * }
 * }</pre>
 */
public final class LoopbackLlmServer implements AutoCloseable {

    /** Path of the one served endpoint. */
    public static final String CHAT_COMPLETIONS_PATH = "/v1/chat/completions";

    /** Maximum number of worker threads of one server. */
    public static final int MAX_WORKER_THREADS = 256;

    /**
     * Body of the 400 sent for {@code response_format.type == "json_schema"} while {@link
     * #setRejectJsonSchema(boolean)} is on.
     */
    public static final String JSON_SCHEMA_UNSUPPORTED_BODY =
            "{\"error\":{\"message\":\"response_format json_schema is not supported\","
                    + "\"type\":\"invalid_request_error\"}}";

    /** Prefix of the {@code response_format.json_schema.name} that names the agent. */
    public static final String SCHEMA_NAME_PREFIX = "signalstream_";

    /** The four agents that {@link #schemaAnswers()} knows. */
    public static final List<String> AGENTS = List.of("sentiment", "pii", "insights", "summary");

    private static final int BACKLOG = 1024;
    private static final AtomicInteger SERVER_IDS = new AtomicInteger();
    private static final AtomicLong COMPLETION_IDS = new AtomicLong();

    static {
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final HttpServer server;
    private final ThreadPoolExecutor workers;
    private final ScheduledThreadPoolExecutor timer;
    private final AtomicReference<Responder> responder;
    private final List<RecordedRequest> recorded = new ArrayList<>(); // guarded by itself
    private final AtomicBoolean closed = new AtomicBoolean();
    private final int port;
    private volatile boolean rejectJsonSchema;

    private LoopbackLlmServer(Responder responder) throws IOException {
        this.responder = new AtomicReference<>(Objects.requireNonNull(responder, "responder"));
        int id = SERVER_IDS.incrementAndGet();
        this.workers =
                new ThreadPoolExecutor(
                        MAX_WORKER_THREADS,
                        MAX_WORKER_THREADS,
                        30,
                        TimeUnit.SECONDS,
                        new LinkedBlockingQueue<>(),
                        daemonThreads("loopback-llm-" + id + "-worker-"));
        workers.allowCoreThreadTimeOut(true);
        this.timer =
                new ScheduledThreadPoolExecutor(1, daemonThreads("loopback-llm-" + id + "-timer-"));
        timer.setRemoveOnCancelPolicy(true);
        InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
        HttpServer created;
        try {
            created = HttpServer.create(new InetSocketAddress(loopback, 0), BACKLOG);
        } catch (IOException | RuntimeException e) {
            workers.shutdownNow();
            timer.shutdownNow();
            throw e;
        }
        this.server = created;
        server.createContext("/", this::handle);
        server.setExecutor(workers);
        server.start();
        this.port = server.getAddress().getPort();
    }

    /**
     * Starts a server on a free port of {@code 127.0.0.1} that answers with {@link
     * #schemaAnswers()}.
     *
     * @return the running server; close it when done
     * @throws UncheckedIOException if no port can be bound
     */
    public static LoopbackLlmServer start() {
        return start(schemaAnswers());
    }

    /**
     * Starts a server on a free port of {@code 127.0.0.1} with the given responder.
     *
     * @param responder answers every {@code POST /v1/chat/completions}; must be thread-safe
     * @return the running server; close it when done
     * @throws NullPointerException if {@code responder} is null
     * @throws UncheckedIOException if no port can be bound
     */
    public static LoopbackLlmServer start(Responder responder) {
        Objects.requireNonNull(responder, "responder");
        try {
            return new LoopbackLlmServer(responder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the loopback LLM server", e);
        }
    }

    /**
     * Returns the OpenAI base URL of this server, {@code "http://127.0.0.1:PORT/v1"} (no trailing
     * slash); clients append {@code /chat/completions}.
     */
    public String baseUrl() {
        return "http://127.0.0.1:" + port + "/v1";
    }

    /** Returns the TCP port this server listens on, on {@code 127.0.0.1}. */
    public int port() {
        return port;
    }

    /**
     * Replaces the responder; requests that arrive afterwards use the new one (requests already
     * being answered finish with the old one). Thread-safe.
     *
     * @throws NullPointerException if {@code responder} is null
     */
    public void setResponder(Responder responder) {
        this.responder.set(Objects.requireNonNull(responder, "responder"));
    }

    /** Returns the current responder. */
    public Responder responder() {
        return responder.get();
    }

    /**
     * Mimics a server without {@code json_schema} support: while on, a request whose {@code
     * response_format.type} is {@code json_schema} gets HTTP 400 with the body {@value
     * #JSON_SCHEMA_UNSUPPORTED_BODY}, without consulting the responder (the request is still
     * recorded). {@code json_object} and requests without {@code response_format} are not affected.
     * Off by default; thread-safe.
     */
    public void setRejectJsonSchema(boolean reject) {
        this.rejectJsonSchema = reject;
    }

    /** Returns whether {@code json_schema} requests are rejected ({@link #setRejectJsonSchema}). */
    public boolean rejectsJsonSchema() {
        return rejectJsonSchema;
    }

    /**
     * Returns a copy of all recorded requests (every method and path, faulted ones included), in
     * arrival order (the order in which their bodies were completely read).
     */
    public List<RecordedRequest> requests() {
        synchronized (recorded) {
            return List.copyOf(recorded);
        }
    }

    /** Returns the number of recorded requests, see {@link #requests()}. */
    public int requestCount() {
        synchronized (recorded) {
            return recorded.size();
        }
    }

    /** Forgets all recorded requests. */
    public void clearRequests() {
        synchronized (recorded) {
            recorded.clear();
        }
    }

    /**
     * Stops the server: closes the listening socket and all open connections (in-flight and delayed
     * requests are abandoned; their clients see an I/O error) and stops the threads. Idempotent;
     * never throws.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            server.stop(0);
        } finally {
            timer.shutdownNow();
            workers.shutdownNow();
        }
    }

    // ------------------------------------------------------------------ request handling

    private void handle(HttpExchange exchange) {
        try {
            Instant receivedAt = Instant.now();
            byte[] bytes = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = new LinkedHashMap<>();
            for (Map.Entry<String, List<String>> e : exchange.getRequestHeaders().entrySet()) {
                headers.put(e.getKey().toLowerCase(Locale.ROOT), String.join(",", e.getValue()));
            }
            String body = new String(bytes, StandardCharsets.UTF_8);
            RecordedRequest request =
                    new RecordedRequest(
                            exchange.getRequestMethod(),
                            exchange.getRequestURI().getPath(),
                            headers,
                            body,
                            parseJson(body),
                            receivedAt);
            synchronized (recorded) {
                recorded.add(request);
            }
            dispatch(exchange, route(request));
        } catch (Throwable t) {
            exchange.close();
        }
    }

    private Reply route(RecordedRequest request) {
        String path = request.path();
        if (!CHAT_COMPLETIONS_PATH.equals(path) && !(CHAT_COMPLETIONS_PATH + "/").equals(path)) {
            return Reply.error(
                    404,
                    "Unknown path " + path + ": only POST " + CHAT_COMPLETIONS_PATH + " is served",
                    "invalid_request_error",
                    "unknown_url");
        }
        if (!"POST".equals(request.method())) {
            return Reply.error(
                            405,
                            "Method " + request.method() + " not allowed: use POST",
                            "invalid_request_error",
                            "method_not_allowed")
                    .withHeader("Allow", "POST");
        }
        if (rejectJsonSchema && "json_schema".equals(request.responseFormatType())) {
            return Reply.status(400, JSON_SCHEMA_UNSUPPORTED_BODY);
        }
        try {
            Reply reply = responder.get().respond(request);
            if (reply == null) {
                return Reply.error(500, "loopback responder returned null", "server_error", null);
            }
            return reply;
        } catch (Exception e) {
            return Reply.error(500, "loopback responder failed: " + e, "server_error", null);
        }
    }

    private void dispatch(HttpExchange exchange, Reply reply) {
        if (reply.delayMs() <= 0) {
            send(exchange, reply);
            return;
        }
        try {
            timer.schedule(
                    () -> {
                        try {
                            workers.execute(() -> send(exchange, reply));
                        } catch (RejectedExecutionException e) {
                            exchange.close();
                        }
                    },
                    reply.delayMs(),
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            exchange.close();
        }
    }

    private static void send(HttpExchange exchange, Reply reply) {
        try {
            if (reply.resetConnection()) {
                // No response headers were sent, so the JDK server closes the TCP connection.
                return;
            }
            Headers out = exchange.getResponseHeaders();
            boolean hasContentType = false;
            for (Map.Entry<String, String> h : reply.headers().entrySet()) {
                out.set(h.getKey(), h.getValue());
                hasContentType |= h.getKey().equalsIgnoreCase("Content-Type");
            }
            if (!hasContentType) {
                out.set("Content-Type", "application/json");
            }
            byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
            if (bytes.length > 0) {
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(bytes);
                }
            }
        } catch (IOException | RuntimeException e) {
            // the client went away; nothing to do
        } finally {
            exchange.close();
        }
    }

    private static JsonNode parseJson(String body) {
        if (body.isBlank()) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    // ------------------------------------------------------------------ public types

    /** Decides the reply to one {@code POST /v1/chat/completions}. Must be thread-safe. */
    @FunctionalInterface
    public interface Responder {

        /**
         * Answers one request.
         *
         * @param request the recorded request (never null; its {@code json} may be null)
         * @return the reply, never null
         * @throws Exception any failure; the server answers it with HTTP 500 and an error body
         */
        Reply respond(RecordedRequest request) throws Exception;
    }

    /**
     * One request as received.
     *
     * @param method HTTP method, e.g. {@code POST}
     * @param path URI path without query, e.g. {@code /v1/chat/completions}
     * @param headers request headers, names lower-cased, repeated values joined with {@code ,};
     *     unmodifiable
     * @param body request body decoded as UTF-8 ({@code ""} if none)
     * @param json the body parsed as JSON, or null if it is blank or not JSON
     * @param receivedAt when the server started to handle the request
     */
    public record RecordedRequest(
            String method,
            String path,
            Map<String, String> headers,
            String body,
            JsonNode json,
            Instant receivedAt) {

        private static final Pattern AGENT_IN_PROMPT =
                Pattern.compile("SignalStream (\\w+) agent", Pattern.CASE_INSENSITIVE);

        /**
         * Copies the headers.
         *
         * @throws NullPointerException if {@code method}, {@code path}, {@code headers}, {@code
         *     body} or {@code receivedAt} is null
         */
        public RecordedRequest {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(path, "path");
            headers = Collections.unmodifiableMap(new LinkedHashMap<>(headers));
            Objects.requireNonNull(body, "body");
            Objects.requireNonNull(receivedAt, "receivedAt");
        }

        /**
         * Builds a {@code POST /v1/chat/completions} request from a JSON body, as the server would
         * record it, with a {@code content-type: application/json} header; for calling responders
         * directly in tests.
         *
         * @param body JSON or any other text
         * @throws NullPointerException if {@code body} is null
         */
        public static RecordedRequest ofBody(String body) {
            return new RecordedRequest(
                    "POST",
                    CHAT_COMPLETIONS_PATH,
                    Map.of("content-type", "application/json"),
                    body,
                    parseJson(body),
                    Instant.now());
        }

        /** Returns {@code json.model}, or null if absent or not a string. */
        public String model() {
            return text(json == null ? null : json.get("model"));
        }

        /**
         * Returns {@code json.response_format.type} (e.g. {@code json_schema}, {@code
         * json_object}), or null if absent.
         */
        public String responseFormatType() {
            return text(json == null ? null : json.path("response_format").get("type"));
        }

        /** Returns {@code json.response_format.json_schema.name}, or null if absent. */
        public String schemaName() {
            return text(
                    json == null
                            ? null
                            : json.path("response_format").path("json_schema").get("name"));
        }

        /**
         * Returns the agent the request is for: {@code <agent>} of a schema name {@code
         * signalstream_<agent>}; else the lower-cased word {@code X} of the first system message
         * containing {@code "SignalStream X agent"} (case-insensitive); else null.
         */
        public String agent() {
            String schema = schemaName();
            if (schema != null
                    && schema.startsWith(SCHEMA_NAME_PREFIX)
                    && schema.length() > SCHEMA_NAME_PREFIX.length()) {
                return schema.substring(SCHEMA_NAME_PREFIX.length());
            }
            for (JsonNode m : messages()) {
                if ("system".equals(text(m.get("role")))) {
                    Matcher matcher = AGENT_IN_PROMPT.matcher(contentText(m.get("content")));
                    if (matcher.find()) {
                        return matcher.group(1).toLowerCase(Locale.ROOT);
                    }
                    if (TASK_IN_PROMPT.matcher(contentText(m.get("content"))).find()) {
                        return COMBINED;
                    }
                }
            }
            return null;
        }

        /**
         * Returns the contents of all {@code messages[]} joined with {@code '\n'} (array contents
         * contribute their {@code text} parts), or {@code ""} if there are none.
         */
        public String allMessageText() {
            List<String> parts = new ArrayList<>();
            for (JsonNode m : messages()) {
                JsonNode content = m.get("content");
                if (content != null && !content.isNull()) {
                    parts.add(contentText(content));
                }
            }
            return String.join("\n", parts);
        }

        /** Returns the content of the last message with role {@code user}, or null if none. */
        public String lastUserMessage() {
            List<JsonNode> messages = messages();
            for (int i = messages.size() - 1; i >= 0; i--) {
                if ("user".equals(text(messages.get(i).get("role")))) {
                    return contentText(messages.get(i).get("content"));
                }
            }
            return null;
        }

        private List<JsonNode> messages() {
            List<JsonNode> out = new ArrayList<>();
            JsonNode messages = json == null ? null : json.get("messages");
            if (messages != null && messages.isArray()) {
                messages.forEach(out::add);
            }
            return out;
        }

        private static String contentText(JsonNode content) {
            if (content == null || content.isNull()) {
                return "";
            }
            if (content.isArray()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode part : content) {
                    if (part.hasNonNull("text")) {
                        parts.add(part.get("text").asText());
                    } else if (part.isTextual()) {
                        parts.add(part.asText());
                    }
                }
                return String.join("\n", parts);
            }
            return content.isTextual() ? content.asText() : content.toString();
        }

        private static String text(JsonNode node) {
            return node != null && node.isTextual() ? node.asText() : null;
        }
    }

    /**
     * What the server sends back.
     *
     * @param status HTTP status, 100..599 (ignored, and may be 0, when {@code resetConnection})
     * @param headers extra response headers; {@code Content-Type: application/json} is added unless
     *     present; unmodifiable
     * @param body response body, sent as UTF-8 ({@code ""} for none)
     * @param delayMs milliseconds to wait before sending (or resetting), {@code >= 0}; the wait
     *     occupies no worker thread
     * @param resetConnection close the TCP connection without sending any response byte; the client
     *     sees an I/O error
     */
    public record Reply(
            int status,
            Map<String, String> headers,
            String body,
            long delayMs,
            boolean resetConnection) {

        /**
         * Validates and copies.
         *
         * @throws IllegalArgumentException if the status is outside 100..599 (unless {@code
         *     resetConnection}) or {@code delayMs < 0}
         */
        public Reply {
            if (!resetConnection && (status < 100 || status > 599)) {
                throw new IllegalArgumentException("HTTP status outside 100..599: " + status);
            }
            if (delayMs < 0) {
                throw new IllegalArgumentException("negative delayMs: " + delayMs);
            }
            headers =
                    headers == null
                            ? Map.of()
                            : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
            body = body == null ? "" : body;
        }

        /**
         * A 200 {@code chat.completion} whose {@code choices[0].message.content} is {@code content}
         * serialised as a JSON string, with {@code finish_reason "stop"} and {@code usage}.
         *
         * @param content the answer object
         * @param promptTokens {@code usage.prompt_tokens}, {@code >= 0}
         * @param completionTokens {@code usage.completion_tokens}, {@code >= 0}
         * @throws NullPointerException if {@code content} is null
         * @throws IllegalArgumentException if a token count is negative
         */
        public static Reply ok(JsonNode content, long promptTokens, long completionTokens) {
            Objects.requireNonNull(content, "content");
            return okText(Json.toString(content), promptTokens, completionTokens);
        }

        /**
         * Like {@link #ok} with a raw content string, e.g. invalid JSON inside a valid envelope.
         * The envelope is {@code {"id":"chatcmpl-loopback-N","object":"chat.completion",
         * "created":<epoch s>,"model":"loopback","choices":[{"index":0,"message":{"role":
         * "assistant","content":<content>},"finish_reason":"stop"}],"usage":{"prompt_tokens":..,
         * "completion_tokens":..,"total_tokens":..}}}.
         *
         * @throws NullPointerException if {@code content} is null
         * @throws IllegalArgumentException if a token count is negative
         */
        public static Reply okText(String content, long promptTokens, long completionTokens) {
            Objects.requireNonNull(content, "content");
            if (promptTokens < 0 || completionTokens < 0) {
                throw new IllegalArgumentException(
                        "negative token count: " + promptTokens + ", " + completionTokens);
            }
            ObjectNode envelope = Json.MAPPER.createObjectNode();
            envelope.put("id", "chatcmpl-loopback-" + COMPLETION_IDS.incrementAndGet());
            envelope.put("object", "chat.completion");
            envelope.put("created", Instant.now().getEpochSecond());
            envelope.put("model", "loopback");
            ObjectNode choice = envelope.putArray("choices").addObject();
            choice.put("index", 0);
            ObjectNode message = choice.putObject("message");
            message.put("role", "assistant");
            message.put("content", content);
            choice.put("finish_reason", "stop");
            ObjectNode usage = envelope.putObject("usage");
            usage.put("prompt_tokens", promptTokens);
            usage.put("completion_tokens", completionTokens);
            usage.put("total_tokens", promptTokens + completionTokens);
            return new Reply(200, Map.of(), Json.toString(envelope), 0, false);
        }

        /**
         * Any status with a raw body (sent as {@code application/json} unless a Content-Type header
         * is added).
         *
         * @throws IllegalArgumentException if the status is outside 100..599
         */
        public static Reply status(int status, String body) {
            return new Reply(status, Map.of(), body, 0, false);
        }

        /**
         * A status with an OpenAI-style error body {@code {"error":{"message":..,"type":..,
         * "code":..}}}; {@code code} is omitted when null.
         *
         * @throws IllegalArgumentException if the status is outside 100..599
         */
        public static Reply error(int status, String message, String type, String code) {
            ObjectNode root = Json.MAPPER.createObjectNode();
            ObjectNode error = root.putObject("error");
            error.put("message", message);
            error.put("type", type);
            if (code != null) {
                error.put("code", code);
            }
            return status(status, Json.toString(root));
        }

        /**
         * A 200 whose body is not JSON (an HTML proxy page), although its Content-Type claims
         * {@code application/json}.
         */
        public static Reply malformedBody() {
            return status(200, "<html><body><h1>502 Bad Gateway</h1>upstream reset</body></html>");
        }

        /** Closes the connection without sending any response; the client sees an I/O error. */
        public static Reply reset() {
            return new Reply(0, Map.of(), "", 0, true);
        }

        /**
         * Returns a copy with the header set, replacing any header of the same name (names compared
         * case-insensitively).
         *
         * @throws NullPointerException if {@code name} or {@code value} is null
         */
        public Reply withHeader(String name, String value) {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            Map<String, String> copy = new LinkedHashMap<>(headers);
            copy.keySet().removeIf(k -> k.equalsIgnoreCase(name));
            copy.put(name, value);
            return new Reply(status, copy, body, delayMs, resetConnection);
        }

        /**
         * Returns a copy with the delay replaced by {@code delayMs} milliseconds.
         *
         * @throws IllegalArgumentException if {@code delayMs < 0}
         */
        public Reply withDelay(long delayMs) {
            return new Reply(status, headers, body, delayMs, resetConnection);
        }
    }

    // ------------------------------------------------------------------ scripted answers

    /**
     * Returns a thread-safe responder with valid, deterministic answers for the four agents of
     * {@link #AGENTS}, derived by keyword rules from the request text; the agent comes from {@link
     * RecordedRequest#agent()}. {@code response_format} {@code json_schema}, {@code json_object}
     * and none are answered alike (a JSON object as content). Usage: {@code prompt_tokens =
     * body.length() / 4}, {@code completion_tokens = content.length() / 4}.
     *
     * <ul>
     *   <li>{@code sentiment}: {@code {label, score ∈ [-1,1], confidence ∈ [0,1], emotion,
     *       reasoning}} from positive cues ({@code thank*, great, love*, awesome, excellent,
     *       perfect, happy, appreciate*, helpful, amazing, good, glad, :)}) and negative cues
     *       ({@code not, never, broken, worst, terrible, awful, hate*, angry, useless, frustrat*,
     *       disappoint*, bad, fail*, error*, can't, cannot, won't, doesn't, isn't, don't, :(}) in
     *       the last user message.
     *   <li>{@code pii}: {@code {has_pii, entities:[{type, text}]}}: {@code PERSON} for a
     *       capitalised two-word name after "my name is", {@code EMAIL_ADDRESS}, {@code
     *       PHONE_NUMBER} (North-American style, optional country code), in text order.
     *   <li>{@code insights}: {@code {intent, urgency, suggested_actions, requires_escalation,
     *       topics}}.
     *   <li>{@code summary}: {@code {summary, key_points, resolution_status}}; key points are the
     *       first three sentences, skipping prompt header lines (ending with {@code :} or starting
     *       with {@code Company:}).
     * </ul>
     *
     * A body that is not JSON, or an unknown or undetectable agent, gets 400 with an error body.
     */
    public static Responder schemaAnswers() {
        return SchemaAnswers.INSTANCE;
    }

    private enum SchemaAnswers implements Responder {
        INSTANCE;

        @Override
        public Reply respond(RecordedRequest request) {
            if (request.json() == null || !request.json().isObject()) {
                return Reply.error(
                        400,
                        "We could not parse the JSON body of your request.",
                        "invalid_request_error",
                        null);
            }
            String agent = request.agent();
            ObjectNode content = answerFor(agent, request);
            if (content == null) {
                return Reply.error(
                        400,
                        "unknown agent '"
                                + agent
                                + "': expected response_format.json_schema.name"
                                + " signalstream_<agent> or a system message naming the"
                                + " 'SignalStream <agent> agent', agent one of "
                                + AGENTS,
                        "invalid_request_error",
                        "unknown_agent");
            }
            String text = Json.toString(content);
            return Reply.okText(text, request.body().length() / 4, text.length() / 4);
        }
    }

    private static final Pattern POSITIVE =
            Pattern.compile(
                    "\\b(thank\\w*|great|love\\w*|awesome|excellent|perfect|happy|appreciate\\w*"
                            + "|helpful|amazing|good|glad)\\b|:-?\\)");
    private static final Pattern NEGATIVE =
            Pattern.compile(
                    "\\b(not|never|broken|worst|terrible|awful|hate\\w*|angry|useless|frustrat\\w*"
                            + "|disappoint\\w*|bad|fail\\w*|error\\w*|can't|cannot|won't|doesn't"
                            + "|isn't|don't)\\b|:-?\\(");
    private static final Pattern ANGER =
            Pattern.compile("\\b(worst|hate\\w*|angry|furious|awful)\\b");
    private static final Pattern GRATITUDE = Pattern.compile("\\b(thank\\w*|appreciate\\w*)\\b");
    private static final Pattern PERSON =
            Pattern.compile("(?i:my name is)\\s+([A-Z][a-z]+ [A-Z][a-z]+)");
    private static final Pattern EMAIL =
            Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}");
    private static final Pattern PHONE =
            Pattern.compile(
                    "(?<![\\w+])(?:\\+?1[ .-]?)?\\(?\\d{3}\\)?[ .-]?\\d{3}[ .-]?\\d{4}(?!\\w)");
    private static final Pattern CRITICAL =
            Pattern.compile("\\b(urgent|emergency|lawyer|legal|fraud|immediately)\\b");
    private static final Pattern ASAP = Pattern.compile("\\basap\\b|!!");
    private static final Pattern ESCALATE =
            Pattern.compile("\\b(manager|supervisor|escalat\\w*)\\b");
    private static final Pattern RESOLVED =
            Pattern.compile("\\b(resolved|fixed|works now|working now|thank\\w*)\\b");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+|\\n+");

    /**
     * Intent (names from the insights prompt's list; {@code other} if none matches) → topic, cue
     * pattern and suggested actions; the first matching intent wins.
     */
    private static final List<Topic> TOPICS =
            List.of(
                    new Topic(
                            "refund_request",
                            "refund",
                            "\\b(refund\\w*|money back|chargeback)\\b",
                            List.of(
                                    "Verify the order and refund eligibility",
                                    "Issue the refund or explain the refund policy")),
                    new Topic(
                            "cancel_order",
                            "cancellation",
                            "\\bcancel\\w*\\b",
                            List.of(
                                    "Confirm the subscription to cancel",
                                    "Offer a retention option before cancelling")),
                    new Topic(
                            "billing_issue",
                            "billing",
                            "\\b(bill\\w*|charge\\w*|payment\\w*|invoice\\w*|price\\w*)\\b",
                            List.of(
                                    "Review the recent charges on the account",
                                    "Explain the invoice line items")),
                    new Topic(
                            "account_access",
                            "account",
                            "\\b(password|log ?in|sign ?in|locked|account)\\b",
                            List.of(
                                    "Verify the customer's identity",
                                    "Send a password reset link")),
                    new Topic(
                            "delivery_status",
                            "delivery",
                            "\\b(deliver\\w*|shipping|shipment|package|order\\w*|tracking)\\b",
                            List.of(
                                    "Look up the tracking information",
                                    "Give the customer an updated delivery estimate")),
                    new Topic(
                            "technical_issue",
                            "technical",
                            "\\b(broken|error\\w*|crash\\w*|bug\\w*|not working|doesn't work"
                                    + "|won't|fail\\w*)\\b",
                            List.of(
                                    "Collect device, app version and steps to reproduce",
                                    "Walk the customer through troubleshooting")),
                    new Topic(
                            "feedback",
                            "feedback",
                            "\\b(thank\\w*|great|love\\w*|awesome)\\b",
                            List.of("Thank the customer for the feedback")));

    private record Topic(String intent, String name, Pattern cue, List<String> actions) {
        Topic(String intent, String name, String cue, List<String> actions) {
            this(intent, name, Pattern.compile(cue), actions);
        }
    }

    /** Returns the valid answer of {@code agent}, or null for an unknown (or null) agent. */
    static ObjectNode answerFor(String agent, RecordedRequest request) {
        if (agent == null) {
            return null;
        }
        String last = request.lastUserMessage();
        String text = last != null ? last : request.allMessageText();
        JsonNode schema = request.json().at("/response_format/json_schema/schema");
        if (COMBINED.equals(agent)) {
            return combined(request, text, schema);
        }
        ObjectNode known = answerFor(agent, text);
        if (known == null && schema.path("properties").size() > 0) {
            // a custom agent: a value its schema accepts
            return (ObjectNode) fromSchema(schema);
        }
        return known;
    }

    /** The {@code json_schema} name suffix of a request that asks several agents at once. */
    static final String COMBINED = "agents";

    /**
     * Answers a combined request: one property per agent named in the schema's {@code properties}
     * (or, without a schema, in the system message's {@code Task <agent>:} lines); pii and
     * sentiment judge the chat's last line, insights and summary the whole user message, any other
     * agent gets a value built from its sub-schema.
     */
    private static ObjectNode combined(RecordedRequest request, String text, JsonNode schema) {
        List<String> agents = new ArrayList<>();
        if (schema.path("properties").isObject()) {
            schema.path("properties").fieldNames().forEachRemaining(agents::add);
        } else {
            Matcher m = TASK_IN_PROMPT.matcher(request.allMessageText());
            while (m.find()) {
                agents.add(m.group(1));
            }
        }
        if (agents.isEmpty()) {
            return null;
        }
        String[] lines = text.strip().split("\n");
        String lastLine = lines[lines.length - 1].replaceFirst("^(customer|agent|system): ", "");
        ObjectNode out = Json.MAPPER.createObjectNode();
        for (String agent : agents) {
            ObjectNode part =
                    answerFor(
                            agent,
                            "pii".equals(agent) || "sentiment".equals(agent) ? lastLine : text);
            JsonNode sub = schema.path("properties").path(agent);
            out.set(agent, part != null ? part : fromSchema(sub));
        }
        return out;
    }

    private static final Pattern TASK_IN_PROMPT = Pattern.compile("(?m)^Task ([a-z0-9_-]+):");

    /**
     * A value that satisfies a (strict, draft-07 subset) schema: the first enum value, {@code
     * "loopback"} for strings, 0.5 for numbers, 1 for integers, false, empty arrays, objects with
     * every property.
     */
    static JsonNode fromSchema(JsonNode schema) {
        if (schema.has("enum") && schema.get("enum").size() > 0) {
            return schema.get("enum").get(0);
        }
        String type = schema.path("type").asText("object");
        switch (type) {
            case "string":
                return Json.MAPPER.getNodeFactory().textNode("loopback");
            case "number":
                return Json.MAPPER.getNodeFactory().numberNode(0.5);
            case "integer":
                return Json.MAPPER.getNodeFactory().numberNode(1);
            case "boolean":
                return Json.MAPPER.getNodeFactory().booleanNode(false);
            case "array":
                return Json.MAPPER.createArrayNode();
            default:
                ObjectNode o = Json.MAPPER.createObjectNode();
                schema.path("properties")
                        .fields()
                        .forEachRemaining(e -> o.set(e.getKey(), fromSchema(e.getValue())));
                return o;
        }
    }

    private static ObjectNode answerFor(String agent, String text) {
        switch (agent) {
            case "sentiment":
                return sentiment(text);
            case "pii":
                return pii(text);
            case "insights":
                return insights(text);
            case "summary":
                return summary(text);
            default:
                return null;
        }
    }

    private static int count(Pattern pattern, String lowerText) {
        Matcher m = pattern.matcher(lowerText);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private static double round2(double v) {
        return Math.round(v * 100.0) / 100.0;
    }

    private static ObjectNode sentiment(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        int pos = count(POSITIVE, lower);
        int neg = count(NEGATIVE, lower);
        double score = round2((double) (pos - neg) / (pos + neg + 1));
        String label = pos > neg ? "positive" : neg > pos ? "negative" : "neutral";
        double confidence =
                "neutral".equals(label)
                        ? (pos + neg == 0 ? 0.6 : 0.5)
                        : round2(Math.min(0.95, 0.55 + 0.1 * Math.abs(pos - neg)));
        String emotion;
        if ("negative".equals(label)) {
            emotion = ANGER.matcher(lower).find() ? "anger" : "frustration";
        } else if ("positive".equals(label)) {
            emotion = GRATITUDE.matcher(lower).find() ? "gratitude" : "joy";
        } else {
            emotion = "neutral";
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("label", label);
        out.put("score", score);
        out.put("confidence", confidence);
        out.put("emotion", emotion);
        out.put(
                "reasoning",
                "The last customer message has "
                        + pos
                        + " positive and "
                        + neg
                        + " negative cue(s).");
        return out;
    }

    private record Found(int start, String type, String text) {}

    private static ObjectNode pii(String text) {
        List<Found> found = new ArrayList<>();
        Matcher m = PERSON.matcher(text);
        while (m.find()) {
            found.add(new Found(m.start(1), "PERSON", m.group(1)));
        }
        m = EMAIL.matcher(text);
        while (m.find()) {
            found.add(new Found(m.start(), "EMAIL_ADDRESS", m.group()));
        }
        m = PHONE.matcher(text);
        while (m.find()) {
            found.add(new Found(m.start(), "PHONE_NUMBER", m.group()));
        }
        found.sort(Comparator.comparingInt(Found::start));
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("has_pii", !found.isEmpty());
        ArrayNode entities = out.putArray("entities");
        for (Found f : found) {
            entities.addObject().put("type", f.type()).put("text", f.text());
        }
        return out;
    }

    private static String urgency(String lower) {
        if (CRITICAL.matcher(lower).find()) {
            return "critical";
        }
        int neg = count(NEGATIVE, lower);
        if (neg >= 3 || ASAP.matcher(lower).find()) {
            return "high";
        }
        return neg >= 1 ? "medium" : "low";
    }

    private static String intent(String lower) {
        for (Topic t : TOPICS) {
            if (t.cue().matcher(lower).find()) {
                return t.intent();
            }
        }
        return "other";
    }

    private static ObjectNode insights(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        String urgency = urgency(lower);
        boolean escalate =
                "high".equals(urgency)
                        || "critical".equals(urgency)
                        || ESCALATE.matcher(lower).find();
        String intent = "other";
        List<String> actions = new ArrayList<>();
        List<String> topics = new ArrayList<>();
        for (Topic t : TOPICS) {
            if (t.cue().matcher(lower).find()) {
                if (topics.isEmpty()) {
                    intent = t.intent();
                    actions.addAll(t.actions());
                }
                topics.add(t.name());
            }
        }
        if (topics.isEmpty()) {
            topics.add("general");
            actions.add("Ask the customer for more details");
        }
        if (escalate) {
            actions.add("Escalate to a senior support agent");
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("intent", intent);
        out.put("urgency", urgency);
        ArrayNode a = out.putArray("suggested_actions");
        actions.forEach(a::add);
        out.put("requires_escalation", escalate);
        ArrayNode tp = out.putArray("topics");
        topics.forEach(tp::add);
        return out;
    }

    private static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 3) + "...";
    }

    private static ObjectNode summary(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> sentences = new ArrayList<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.endsWith(":") || l.startsWith("Company:")) {
                continue; // prompt header lines, e.g. "Conversation so far (oldest first):"
            }
            for (String s : SENTENCE_END.split(l)) {
                if (!s.isBlank()) {
                    sentences.add(abbreviate(s.strip(), 200));
                }
            }
        }
        String intent = intent(lower);
        String about = "other".equals(intent) ? "" : " about " + intent.replace('_', ' ');
        String summary =
                sentences.isEmpty()
                        ? "The customer sent no message text."
                        : "Customer conversation"
                                + about
                                + ": "
                                + abbreviate(sentences.get(0), 160);
        int neg = count(NEGATIVE, lower);
        String status =
                RESOLVED.matcher(lower).find() && neg == 0
                        ? "resolved"
                        : neg > 0 ? "unresolved" : "pending";
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("summary", summary);
        ArrayNode points = out.putArray("key_points");
        if (sentences.isEmpty()) {
            points.add("No customer message");
        } else {
            sentences.stream().limit(3).forEach(points::add);
        }
        out.put("resolution_status", status);
        return out;
    }

    // ------------------------------------------------------------------ faults

    /**
     * Wraps a responder with random faults. For every request, under one lock on a {@code
     * Random(seed)}, three numbers are drawn: whether to fault (probability {@code faultRate}),
     * which fault (uniform over {@link FaultyResponder#KINDS}) and an extra delay (uniform in
     * {@code [0, maxDelayMs]} ms, applied to every reply, faulted or not, on top of the reply's own
     * delay). Because every request draws the same amount, the fault counts after N requests depend
     * only on the seed and N, not on thread interleaving; with a single client thread the whole
     * sequence is reproducible.
     *
     * <p>Faults: {@code 429} (with {@code Retry-After: 1}), {@code 500}, {@code 503} (with {@code
     * Retry-After: 1}), {@code malformed} ({@link Reply#malformedBody()}), {@code schema} (a 200
     * whose content is valid JSON missing required fields of the agent's schema: the agent's valid
     * answer cut to its first field, or {@code {"unexpected":..}} for an unknown agent) and {@code
     * reset} ({@link Reply#reset()}). The base responder is not called for a faulted request.
     *
     * <p>The returned {@link FaultyResponder} counts the injected faults: {@link
     * FaultyResponder#faults()} or {@link #injectedFaults(Responder)}.
     *
     * @param base answers the requests that are not faulted
     * @param faultRate probability in [0, 1] that a request is faulted
     * @param seed seed of the {@link Random}
     * @param maxDelayMs maximum extra delay in milliseconds, {@code >= 0} (0: no extra delay)
     * @throws NullPointerException if {@code base} is null
     * @throws IllegalArgumentException if {@code faultRate} is outside [0, 1] or {@code maxDelayMs
     *     < 0}
     */
    public static FaultyResponder faulty(
            Responder base, double faultRate, long seed, long maxDelayMs) {
        return new FaultyResponder(base, faultRate, seed, maxDelayMs);
    }

    /**
     * Returns the counts of faults injected so far by a responder made by {@link #faulty}, by kind
     * in the order of {@link FaultyResponder#KINDS} (every kind present, 0 if none).
     *
     * @throws IllegalArgumentException if the responder was not made by {@link #faulty}
     */
    public static Map<String, Integer> injectedFaults(Responder faultyResponder) {
        if (faultyResponder instanceof FaultyResponder f) {
            return f.faults();
        }
        throw new IllegalArgumentException(
                "not a responder made by LoopbackLlmServer.faulty(): " + faultyResponder);
    }

    /** A responder made by {@link #faulty}; thread-safe. */
    public static final class FaultyResponder implements Responder {

        /** The fault kinds, as counted by {@link #faults()}. */
        public static final List<String> KINDS =
                List.of("429", "500", "503", "malformed", "schema", "reset");

        private final Responder base;
        private final double faultRate;
        private final long maxDelayMs;
        private final Random random; // guarded by itself
        private final Map<String, AtomicInteger> counts = new LinkedHashMap<>();
        private final AtomicLong calls = new AtomicLong();

        private FaultyResponder(Responder base, double faultRate, long seed, long maxDelayMs) {
            this.base = Objects.requireNonNull(base, "base");
            if (!(faultRate >= 0.0 && faultRate <= 1.0)) {
                throw new IllegalArgumentException("faultRate outside [0, 1]: " + faultRate);
            }
            if (maxDelayMs < 0) {
                throw new IllegalArgumentException("negative maxDelayMs: " + maxDelayMs);
            }
            this.faultRate = faultRate;
            this.maxDelayMs = maxDelayMs;
            this.random = new Random(seed);
            for (String kind : KINDS) {
                counts.put(kind, new AtomicInteger());
            }
        }

        /**
         * Answers with a fault or the base responder's reply, plus the random extra delay.
         *
         * @throws Exception whatever the base responder throws
         */
        @Override
        public Reply respond(RecordedRequest request) throws Exception {
            double roll;
            int kind;
            long extraDelay;
            synchronized (random) {
                roll = random.nextDouble();
                kind = random.nextInt(KINDS.size());
                extraDelay = random.nextLong(maxDelayMs + 1);
            }
            calls.incrementAndGet();
            Reply reply;
            if (roll < faultRate) {
                String k = KINDS.get(kind);
                counts.get(k).incrementAndGet();
                reply = fault(k, request);
            } else {
                reply = base.respond(request);
                if (reply == null) {
                    return null;
                }
            }
            return extraDelay == 0 ? reply : reply.withDelay(reply.delayMs() + extraDelay);
        }

        /**
         * Returns a snapshot of the injected fault counts by kind, in the order of {@link #KINDS}
         * (every kind present); unmodifiable.
         */
        public Map<String, Integer> faults() {
            Map<String, Integer> out = new LinkedHashMap<>();
            counts.forEach((k, v) -> out.put(k, v.get()));
            return Collections.unmodifiableMap(out);
        }

        /** Returns the total number of injected faults. */
        public int totalFaults() {
            return counts.values().stream().mapToInt(AtomicInteger::get).sum();
        }

        /** Returns the number of requests this responder has answered, faulted or not. */
        public long calls() {
            return calls.get();
        }

        private static Reply fault(String kind, RecordedRequest request) {
            switch (kind) {
                case "429":
                    return Reply.error(
                                    429,
                                    "Rate limit reached for requests (injected by"
                                            + " LoopbackLlmServer)",
                                    "requests",
                                    "rate_limit_exceeded")
                            .withHeader("Retry-After", "1");
                case "500":
                    return Reply.error(
                            500,
                            "The server had an error while processing your request (injected)",
                            "server_error",
                            null);
                case "503":
                    return Reply.error(
                                    503,
                                    "The engine is currently overloaded, please try again later"
                                            + " (injected)",
                                    "server_error",
                                    "service_unavailable")
                            .withHeader("Retry-After", "1");
                case "malformed":
                    return Reply.malformedBody();
                case "schema":
                    return schemaBreaking(request);
                case "reset":
                    return Reply.reset();
                default:
                    throw new IllegalStateException("unknown fault kind " + kind);
            }
        }

        private static Reply schemaBreaking(RecordedRequest request) {
            ObjectNode valid = answerFor(request.agent(), request);
            ObjectNode broken = Json.MAPPER.createObjectNode();
            if (valid != null && valid.size() > 0) {
                String first = valid.fieldNames().next();
                broken.set(first, valid.get(first));
            } else {
                broken.put("unexpected", "required fields missing (injected fault)");
            }
            String text = Json.toString(broken);
            return Reply.okText(text, request.body().length() / 4, text.length() / 4);
        }

        @Override
        public String toString() {
            return "FaultyResponder{faultRate="
                    + faultRate
                    + ", maxDelayMs="
                    + maxDelayMs
                    + ", base="
                    + base
                    + ", faults="
                    + faults()
                    + "}";
        }
    }
}
