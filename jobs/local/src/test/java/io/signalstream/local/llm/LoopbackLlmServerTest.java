package io.signalstream.local.llm;

import io.signalstream.local.llm.LoopbackLlmServer.FaultyResponder;
import io.signalstream.local.llm.LoopbackLlmServer.RecordedRequest;
import io.signalstream.local.llm.LoopbackLlmServer.Reply;
import io.signalstream.local.llm.LoopbackLlmServer.Responder;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static io.signalstream.local.llm.LoopbackLlmServer.faulty;
import static io.signalstream.local.llm.LoopbackLlmServer.schemaAnswers;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(60)
class LoopbackLlmServerTest {

    private static final String API_KEY = "sk-test-123";

    private static final HttpClient CLIENT =
            HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();

    /** The JSON schemas the agents' answers must satisfy (additionalProperties false). */
    private static final Map<String, String> SCHEMAS =
            Map.of(
                    "sentiment",
                    "{\"type\":\"object\",\"additionalProperties\":false,"
                            + "\"required\":[\"label\",\"score\",\"confidence\",\"emotion\","
                            + "\"reasoning\"],"
                            + "\"properties\":{"
                            + "\"label\":{\"enum\":[\"positive\",\"neutral\",\"negative\"]},"
                            + "\"score\":{\"type\":\"number\",\"minimum\":-1,\"maximum\":1},"
                            + "\"confidence\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1},"
                            + "\"emotion\":{\"type\":\"string\"},"
                            + "\"reasoning\":{\"type\":\"string\"}}}",
                    "pii",
                    "{\"type\":\"object\",\"additionalProperties\":false,"
                            + "\"required\":[\"has_pii\",\"entities\"],"
                            + "\"properties\":{"
                            + "\"has_pii\":{\"type\":\"boolean\"},"
                            + "\"entities\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
                            + "\"additionalProperties\":false,\"required\":[\"type\",\"text\"],"
                            + "\"properties\":{\"type\":{\"type\":\"string\"},"
                            + "\"text\":{\"type\":\"string\"}}}}}}",
                    "insights",
                    "{\"type\":\"object\",\"additionalProperties\":false,"
                            + "\"required\":[\"intent\",\"urgency\",\"suggested_actions\","
                            + "\"requires_escalation\",\"topics\"],"
                            + "\"properties\":{"
                            + "\"intent\":{\"type\":\"string\"},"
                            + "\"urgency\":{\"enum\":[\"low\",\"medium\",\"high\",\"critical\"]},"
                            + "\"suggested_actions\":{\"type\":\"array\","
                            + "\"items\":{\"type\":\"string\"}},"
                            + "\"requires_escalation\":{\"type\":\"boolean\"},"
                            + "\"topics\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}",
                    "summary",
                    "{\"type\":\"object\",\"additionalProperties\":false,"
                            + "\"required\":[\"summary\",\"key_points\",\"resolution_status\"],"
                            + "\"properties\":{"
                            + "\"summary\":{\"type\":\"string\"},"
                            + "\"key_points\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
                            + "\"resolution_status\":"
                            + "{\"enum\":[\"resolved\",\"pending\",\"unresolved\"]}}}");

    private static final ExecutorService POOL = Executors.newFixedThreadPool(16);

    private LoopbackLlmServer server;

    @BeforeEach
    void startServer() {
        server = LoopbackLlmServer.start();
    }

    @AfterEach
    void stopServer() {
        server.close();
    }

    @AfterAll
    static void stopPool() {
        POOL.shutdownNow();
    }

    // ------------------------------------------------------------------ helpers

    /**
     * A chat-completions body; the agent is named in the schema name (json_schema) and/or the
     * system prompt.
     */
    private static String body(
            String agent, String userText, String responseFormat, boolean agentInSystemPrompt) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        root.put("model", "gpt-4o-mini");
        root.put("temperature", 0);
        ArrayNode messages = root.putArray("messages");
        messages.addObject()
                .put("role", "system")
                .put(
                        "content",
                        agentInSystemPrompt
                                ? "You are the SignalStream " + agent + " agent. Answer in JSON."
                                : "You analyse customer support conversations. Answer in JSON.");
        messages.addObject().put("role", "user").put("content", "earlier message");
        messages.addObject().put("role", "assistant").put("content", "earlier answer");
        messages.addObject().put("role", "user").put("content", userText);
        if ("json_schema".equals(responseFormat)) {
            ObjectNode rf = root.putObject("response_format");
            rf.put("type", "json_schema");
            ObjectNode js = rf.putObject("json_schema");
            js.put("name", "signalstream_" + agent);
            js.put("strict", true);
            js.set("schema", readJson(SCHEMAS.getOrDefault(agent, "{\"type\":\"object\"}")));
        } else if (responseFormat != null) {
            root.putObject("response_format").put("type", responseFormat);
        }
        return Json.toString(root);
    }

    private static String schemaBody(String agent, String userText) {
        return body(agent, userText, "json_schema", false);
    }

    private static HttpRequest.Builder request(LoopbackLlmServer s, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .timeout(Duration.ofSeconds(20))
                .header("Authorization", "Bearer " + API_KEY)
                .header("Content-Type", "application/json");
    }

    private static HttpResponse<String> post(LoopbackLlmServer s, String body)
            throws IOException, InterruptedException {
        return CLIENT.send(
                request(s, "/v1/chat/completions")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode readJson(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + s, e);
        }
    }

    /** Parses choices[0].message.content of a 200 envelope. */
    private static JsonNode content(HttpResponse<String> response) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return readJson(readJson(response.body()).at("/choices/0/message/content").asText());
    }

    private static JsonNode answer(LoopbackLlmServer s, String agent, String userText)
            throws IOException, InterruptedException {
        return content(post(s, schemaBody(agent, userText)));
    }

    private static final Map<String, JsonSchema> COMPILED = new ConcurrentHashMap<>();

    private static Set<ValidationMessage> validate(String agent, JsonNode answer) {
        JsonSchema schema =
                COMPILED.computeIfAbsent(
                        agent,
                        a ->
                                JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
                                        .getSchema(readJson(SCHEMAS.get(a))));
        return schema.validate(answer);
    }

    // ------------------------------------------------------------------ tests

    @Test
    void answersWithChatCompletionEnvelopeAndUsage() throws Exception {
        String body = schemaBody("sentiment", "Thank you, that was great help!");
        HttpResponse<String> response = post(server, body);

        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        JsonNode envelope = readJson(response.body());
        assertThat(envelope.get("object").asText()).isEqualTo("chat.completion");
        assertThat(envelope.get("id").asText()).startsWith("chatcmpl-");
        assertThat(envelope.get("created").asLong()).isPositive();
        assertThat(envelope.get("model").isTextual()).isTrue();
        JsonNode choice = envelope.at("/choices/0");
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.at("/message/role").asText()).isEqualTo("assistant");
        JsonNode contentNode = choice.at("/message/content");
        assertThat(contentNode.isTextual()).isTrue();
        String content = contentNode.asText();
        assertThat(readJson(content).get("label").asText()).isEqualTo("positive");

        JsonNode usage = envelope.get("usage");
        assertThat(usage.get("prompt_tokens").asLong()).isEqualTo(body.length() / 4);
        assertThat(usage.get("completion_tokens").asLong()).isEqualTo(content.length() / 4);
        assertThat(usage.get("total_tokens").asLong())
                .isEqualTo(body.length() / 4 + content.length() / 4);
        assertThat(server.baseUrl()).isEqualTo("http://127.0.0.1:" + server.port() + "/v1");
    }

    @Test
    void replyOkSerialisesContentAsJsonString() throws Exception {
        ObjectNode content = Json.MAPPER.createObjectNode().put("a", 1).put("b", "x\"y");
        server.setResponder(r -> Reply.ok(content, 7, 3));
        JsonNode envelope = readJson(post(server, "{}").body());
        assertThat(readJson(envelope.at("/choices/0/message/content").asText())).isEqualTo(content);
        assertThat(envelope.at("/usage/total_tokens").asLong()).isEqualTo(10);

        server.setResponder(r -> Reply.okText("{not json", 1, 1));
        HttpResponse<String> raw = post(server, "{}");
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(readJson(raw.body()).at("/choices/0/message/content").asText())
                .isEqualTo("{not json");
    }

    @Test
    void everyAgentAnswerSatisfiesItsSchema() throws Exception {
        List<String> texts =
                List.of(
                        "Thank you so much, great help!",
                        "The app is broken and I can't log in :( worst service ever",
                        "Hi, my name is Jane Doe, mail me at jane.doe@example.com or call"
                                + " +1 415-555-0123. I want a refund ASAP!!",
                        "URGENT: I was charged twice, I will contact my lawyer. Get me a manager.",
                        "",
                        "ok");
        for (String agent : LoopbackLlmServer.AGENTS) {
            for (String text : texts) {
                for (String format : new String[] {"json_schema", "json_object", null}) {
                    JsonNode answer =
                            content(
                                    post(
                                            server,
                                            body(
                                                    agent,
                                                    text,
                                                    format,
                                                    !"json_schema".equals(format))));
                    assertThat(validate(agent, answer))
                            .as("%s answer %s to '%s' (%s)", agent, answer, text, format)
                            .isEmpty();
                }
            }
        }
    }

    @Test
    void sentimentFollowsKeywords() throws Exception {
        JsonNode positive = answer(server, "sentiment", "Thanks, the new plan is great!");
        assertThat(positive.get("label").asText()).isEqualTo("positive");
        assertThat(positive.get("score").asDouble()).isPositive().isLessThanOrEqualTo(1.0);
        assertThat(positive.get("confidence").asDouble()).isBetween(0.0, 1.0);

        JsonNode negative = answer(server, "sentiment", "It is broken, never works, worst app :(");
        assertThat(negative.get("label").asText()).isEqualTo("negative");
        assertThat(negative.get("score").asDouble()).isNegative().isGreaterThanOrEqualTo(-1.0);
        assertThat(negative.get("emotion").asText()).isEqualTo("anger");

        JsonNode neutral = answer(server, "sentiment", "What time do you open on Monday?");
        assertThat(neutral.get("label").asText()).isEqualTo("neutral");
        assertThat(neutral.get("score").asDouble()).isZero();

        // only the last user message counts
        assertThat(answer(server, "sentiment", "ok").get("label").asText()).isEqualTo("neutral");
        // deterministic
        assertThat(answer(server, "sentiment", "Thanks, the new plan is great!"))
                .isEqualTo(positive);
    }

    @Test
    void piiInsightsAndSummaryFollowKeywords() throws Exception {
        JsonNode pii =
                answer(
                        server,
                        "pii",
                        "Hello, my name is Jane Doe. Email jane.doe@example.com,"
                                + " phone (415) 555-0123.");
        assertThat(pii.get("has_pii").asBoolean()).isTrue();
        assertThat(pii.get("entities"))
                .extracting(e -> e.get("type").asText() + "=" + e.get("text").asText())
                .containsExactly(
                        "PERSON=Jane Doe",
                        "EMAIL_ADDRESS=jane.doe@example.com",
                        "PHONE_NUMBER=(415) 555-0123");
        JsonNode clean = answer(server, "pii", "my name is jane and my order is late");
        assertThat(clean.get("has_pii").asBoolean()).isFalse();
        assertThat(clean.get("entities")).isEmpty();

        JsonNode critical =
                answer(
                        server,
                        "insights",
                        "URGENT: I was charged twice for my refund, call a lawyer");
        assertThat(critical.get("intent").asText()).isEqualTo("refund_request");
        assertThat(critical.get("urgency").asText()).isEqualTo("critical");
        assertThat(critical.get("requires_escalation").asBoolean()).isTrue();
        assertThat(critical.get("topics"))
                .extracting(JsonNode::asText)
                .contains("refund", "billing");
        assertThat(critical.get("suggested_actions")).isNotEmpty();
        JsonNode calm = answer(server, "insights", "When does my package arrive?");
        assertThat(calm.get("intent").asText()).isEqualTo("delivery_status");
        assertThat(calm.get("urgency").asText()).isEqualTo("low");
        assertThat(calm.get("requires_escalation").asBoolean()).isFalse();

        JsonNode resolved =
                answer(server, "summary", "The reset worked. Thanks a lot! Have a nice day.");
        assertThat(resolved.get("resolution_status").asText()).isEqualTo("resolved");
        assertThat(resolved.get("key_points")).hasSize(3);
        assertThat(resolved.get("summary").asText()).contains("The reset worked.");
        JsonNode unresolved = answer(server, "summary", "It is still not working.");
        assertThat(unresolved.get("resolution_status").asText()).isEqualTo("unresolved");
        JsonNode pending = answer(server, "summary", "Can you check my order?");
        assertThat(pending.get("resolution_status").asText()).isEqualTo("pending");
        // prompt header lines are not key points
        JsonNode templated =
                answer(
                        server,
                        "summary",
                        "Company: acme\nConversation so far (oldest first):\n"
                                + "customer: My card was charged twice.\nagent: We will check.");
        assertThat(templated.get("key_points"))
                .extracting(JsonNode::asText)
                .containsExactly("customer: My card was charged twice.", "agent: We will check.");
        assertThat(templated.get("summary").asText())
                .isEqualTo(
                        "Customer conversation about billing issue:"
                                + " customer: My card was charged twice.");
    }

    @Test
    void recordsRequestsWithHeadersBodyAndAgent() throws Exception {
        String viaSchema = body("insights", "Where is my parcel?", "json_schema", false);
        String viaPrompt = body("summary", "Please summarise", "json_object", true);
        String noFormat = body("pii", "my name is Ann Lee", null, true);
        post(server, viaSchema);
        post(server, viaPrompt);
        post(server, noFormat);

        List<RecordedRequest> requests = server.requests();
        assertThat(server.requestCount()).isEqualTo(3);
        assertThat(requests).hasSize(3);

        RecordedRequest first = requests.get(0);
        assertThat(first.method()).isEqualTo("POST");
        assertThat(first.path()).isEqualTo("/v1/chat/completions");
        assertThat(first.headers()).containsEntry("authorization", "Bearer " + API_KEY);
        assertThat(first.headers()).containsEntry("content-type", "application/json");
        assertThat(first.headers().keySet()).allMatch(k -> k.equals(k.toLowerCase()));
        assertThat(first.body()).isEqualTo(viaSchema);
        assertThat(first.json()).isEqualTo(readJson(viaSchema));
        assertThat(first.model()).isEqualTo("gpt-4o-mini");
        assertThat(first.responseFormatType()).isEqualTo("json_schema");
        assertThat(first.schemaName()).isEqualTo("signalstream_insights");
        assertThat(first.agent()).isEqualTo("insights");
        assertThat(first.lastUserMessage()).isEqualTo("Where is my parcel?");
        assertThat(first.allMessageText())
                .isEqualTo(
                        "You analyse customer support conversations. Answer in JSON.\n"
                                + "earlier message\nearlier answer\nWhere is my parcel?");
        assertThat(first.receivedAt()).isNotNull();

        RecordedRequest second = requests.get(1);
        assertThat(second.responseFormatType()).isEqualTo("json_object");
        assertThat(second.schemaName()).isNull();
        assertThat(second.agent()).isEqualTo("summary");
        assertThat(second.receivedAt()).isAfterOrEqualTo(first.receivedAt());

        RecordedRequest third = requests.get(2);
        assertThat(third.responseFormatType()).isNull();
        assertThat(third.agent()).isEqualTo("pii");

        // the returned list is a copy
        post(server, viaSchema);
        assertThat(requests).hasSize(3);
        assertThat(server.requestCount()).isEqualTo(4);
        server.clearRequests();
        assertThat(server.requests()).isEmpty();
        assertThat(server.requestCount()).isZero();
    }

    @Test
    void nonJsonBodyIsRecordedAndRejected() throws Exception {
        HttpResponse<String> response = post(server, "this is not json");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(readJson(response.body()).at("/error/message").asText()).isNotEmpty();
        RecordedRequest r = server.requests().get(0);
        assertThat(r.json()).isNull();
        assertThat(r.body()).isEqualTo("this is not json");
        assertThat(r.model()).isNull();
        assertThat(r.agent()).isNull();
        assertThat(r.lastUserMessage()).isNull();
        assertThat(r.allMessageText()).isEmpty();
    }

    @Test
    void unknownAgentGets400() throws Exception {
        HttpResponse<String> unknown = post(server, schemaBody("weather", "hi"));
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(readJson(unknown.body()).at("/error/message").asText()).contains("weather");
        assertThat(readJson(unknown.body()).at("/error/type").asText())
                .isEqualTo("invalid_request_error");

        HttpResponse<String> none = post(server, body("x", "hi", "json_object", false));
        assertThat(none.statusCode()).isEqualTo(400);
        assertThat(server.requests())
                .extracting(RecordedRequest::agent)
                .containsExactly("weather", null);
    }

    @Test
    void customAgentIsAnsweredFromItsSchemaAndCombinedRequestsPerAgent() throws Exception {
        ObjectNode body = (ObjectNode) readJson(schemaBody("sentiment", "x"));
        ObjectNode churn =
                (ObjectNode)
                        readJson(
                                "{\"type\":\"object\",\"required\":[\"risk\",\"score\"],"
                                        + "\"properties\":{\"risk\":{\"type\":\"string\","
                                        + "\"enum\":[\"low\",\"high\"]},"
                                        + "\"score\":{\"type\":\"number\"}}}");
        ObjectNode js = (ObjectNode) body.at("/response_format/json_schema");
        js.put("name", "signalstream_churn_risk");
        js.set("schema", churn);
        HttpResponse<String> custom = post(server, Json.toString(body));
        assertThat(custom.statusCode()).isEqualTo(200);
        JsonNode answer =
                readJson(readJson(custom.body()).at("/choices/0/message/content").asText());
        assertThat(answer.get("risk").asText()).isEqualTo("low");
        assertThat(answer.get("score").isNumber()).isTrue();

        ObjectNode combined = Json.MAPPER.createObjectNode();
        combined.put("type", "object");
        ObjectNode props = combined.putObject("properties");
        props.set("sentiment", readJson(SCHEMAS.get("sentiment")));
        props.set("churn_risk", churn);
        js.put("name", "signalstream_agents");
        js.set("schema", combined);
        ((ObjectNode) body.at("/messages/3"))
                .put("content", "Chat:\ncustomer: this is the worst, terrible service");
        HttpResponse<String> both = post(server, Json.toString(body));
        assertThat(both.statusCode()).isEqualTo(200);
        JsonNode parts = readJson(readJson(both.body()).at("/choices/0/message/content").asText());
        assertThat(parts.at("/sentiment/label").asText()).isEqualTo("negative");
        assertThat(parts.at("/churn_risk/risk").asText()).isEqualTo("low");
        assertThat(server.requests())
                .extracting(RecordedRequest::agent)
                .endsWith("churn_risk", "agents");
    }

    @Test
    void unknownPathAndWrongMethodAreRecordedAndRejected() throws Exception {
        HttpResponse<String> notFound =
                CLIENT.send(
                        request(server, "/v1/embeddings")
                                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(readJson(notFound.body()).at("/error/message").asText())
                .contains("/v1/embeddings");

        HttpResponse<String> get =
                CLIENT.send(
                        request(server, "/v1/chat/completions").GET().build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(get.statusCode()).isEqualTo(405);
        assertThat(get.headers().firstValue("allow")).hasValue("POST");
        assertThat(readJson(get.body()).has("error")).isTrue();

        assertThat(server.requests())
                .extracting(r -> r.method() + " " + r.path())
                .containsExactly("POST /v1/embeddings", "GET /v1/chat/completions");
    }

    @Test
    void responderExceptionBecomes500() throws Exception {
        server.setResponder(
                r -> {
                    throw new IllegalStateException("boom");
                });
        HttpResponse<String> response = post(server, "{}");
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(readJson(response.body()).at("/error/message").asText()).contains("boom");
        assertThat(server.requestCount()).isEqualTo(1);
    }

    @Test
    void delayIsHonoured() throws Exception {
        Responder answers = schemaAnswers();
        server.setResponder(r -> answers.respond(r).withDelay(300));
        long start = System.nanoTime();
        HttpResponse<String> response = post(server, schemaBody("sentiment", "hello"));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        System.out.println("delayIsHonoured: 300 ms delay took " + elapsedMs + " ms");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(elapsedMs).isGreaterThanOrEqualTo(300);
    }

    @Test
    void rateLimitCarriesRetryAfter() throws Exception {
        server.setResponder(
                r ->
                        Reply.error(429, "slow down", "requests", "rate_limit_exceeded")
                                .withHeader("Retry-After", "1"));
        HttpResponse<String> response = post(server, schemaBody("sentiment", "hello"));
        assertThat(response.statusCode()).isEqualTo(429);
        assertThat(response.headers().firstValue("retry-after")).hasValue("1");
        JsonNode error = readJson(response.body()).get("error");
        assertThat(error.get("message").asText()).isEqualTo("slow down");
        assertThat(error.get("type").asText()).isEqualTo("requests");
        assertThat(error.get("code").asText()).isEqualTo("rate_limit_exceeded");

        server.setResponder(r -> Reply.status(401, "{\"error\":{\"message\":\"bad key\"}}"));
        HttpResponse<String> unauthorised = post(server, "{}");
        assertThat(unauthorised.statusCode()).isEqualTo(401);
        assertThat(unauthorised.body()).isEqualTo("{\"error\":{\"message\":\"bad key\"}}");
    }

    @Test
    void malformedBodyIsNotJson() throws Exception {
        server.setResponder(r -> Reply.malformedBody());
        HttpResponse<String> response = post(server, schemaBody("sentiment", "hello"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).isNotEmpty();
        assertThatThrownBy(() -> Json.MAPPER.readTree(response.body()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void resetGivesTheClientAnIoExceptionAndLaterRequestsWork() throws Exception {
        server.setResponder(r -> Reply.reset());
        assertThatThrownBy(() -> post(server, schemaBody("sentiment", "hello")))
                .isInstanceOf(IOException.class);
        assertThat(server.requestCount()).isGreaterThanOrEqualTo(1);

        server.setResponder(schemaAnswers());
        assertThat(post(server, schemaBody("sentiment", "hello")).statusCode()).isEqualTo(200);
    }

    @Test
    void rejectJsonSchemaMimicsServersWithoutJsonSchemaSupport() throws Exception {
        server.setRejectJsonSchema(true);
        assertThat(server.rejectsJsonSchema()).isTrue();
        HttpResponse<String> rejected = post(server, schemaBody("sentiment", "hello"));
        assertThat(rejected.statusCode()).isEqualTo(400);
        assertThat(rejected.body())
                .isEqualTo(
                        "{\"error\":{\"message\":\"response_format json_schema is not supported\","
                                + "\"type\":\"invalid_request_error\"}}");
        assertThat(post(server, body("sentiment", "hello", "json_object", true)).statusCode())
                .isEqualTo(200);
        assertThat(post(server, body("sentiment", "hello", null, true)).statusCode())
                .isEqualTo(200);
        assertThat(server.requestCount()).isEqualTo(3);

        server.setRejectJsonSchema(false);
        assertThat(post(server, schemaBody("sentiment", "hello")).statusCode()).isEqualTo(200);
    }

    /** What a client observed for one request. */
    private static String outcome(HttpResponse<String> response) {
        switch (response.statusCode()) {
            case 429:
            case 503:
                assertThat(response.headers().firstValue("retry-after")).hasValue("1");
                return String.valueOf(response.statusCode());
            case 500:
                return "500";
            case 200:
                JsonNode envelope;
                try {
                    envelope = Json.MAPPER.readTree(response.body());
                } catch (IOException e) {
                    return "malformed";
                }
                JsonNode content = readJson(envelope.at("/choices/0/message/content").asText());
                return validate("sentiment", content).isEmpty() ? "ok" : "schema";
            default:
                return "unexpected " + response.statusCode();
        }
    }

    private static Map<String, Integer> runConcurrently(LoopbackLlmServer s, int n)
            throws Exception {
        String body = schemaBody("sentiment", "the app is broken");
        List<Future<String>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(
                    POOL.submit(
                            () -> {
                                try {
                                    return outcome(post(s, body));
                                } catch (IOException e) {
                                    return "reset";
                                }
                            }));
        }
        Map<String, Integer> outcomes = new ConcurrentHashMap<>();
        for (Future<String> f : futures) {
            outcomes.merge(f.get(), 1, Integer::sum);
        }
        return outcomes;
    }

    @Test
    void faultyInjectsTheConfiguredRateReproducibly() throws Exception {
        int n = 1000;
        FaultyResponder faulty = faulty(schemaAnswers(), 0.2, 42L, 0);
        server.setResponder(faulty);
        long start = System.nanoTime();
        Map<String, Integer> outcomes = runConcurrently(server, n);
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;

        Map<String, Integer> faults = LoopbackLlmServer.injectedFaults(faulty);
        int total = faults.values().stream().mapToInt(Integer::intValue).sum();
        double rate = total / (double) n;
        System.out.printf(
                "faulty: %d requests in %d ms, injected %s = %d (rate %.3f), client saw %s%n",
                n, elapsedMs, faults, total, rate, outcomes);

        assertThat(faults.keySet())
                .containsExactly("429", "500", "503", "malformed", "schema", "reset");
        assertThat(faults).isEqualTo(faulty.faults());
        assertThat(total).isEqualTo(faulty.totalFaults());
        assertThat(faulty.calls()).isEqualTo(n);
        assertThat(rate).isBetween(0.15, 0.25);
        assertThat(faults.values()).allMatch(c -> c > 0);
        assertThat(server.requestCount()).isEqualTo(n);
        // what the clients saw matches what was injected, kind by kind
        for (Map.Entry<String, Integer> e : faults.entrySet()) {
            assertThat(outcomes.getOrDefault(e.getKey(), 0)).as(e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(outcomes.get("ok")).isEqualTo(n - total);

        // same seed, same counts (every request draws the same amount, so even concurrently)
        try (LoopbackLlmServer again = LoopbackLlmServer.start()) {
            FaultyResponder same = faulty(schemaAnswers(), 0.2, 42L, 0);
            again.setResponder(same);
            runConcurrently(again, n);
            assertThat(same.faults()).isEqualTo(faults);
        }
    }

    @Test
    void faultySequenceIsReproducibleForASeed() throws Exception {
        RecordedRequest request =
                RecordedRequest.ofBody(schemaBody("insights", "my order never arrived"));
        List<String> a = sequence(faulty(schemaAnswers(), 0.3, 7L, 50), request);
        List<String> b = sequence(faulty(schemaAnswers(), 0.3, 7L, 50), request);
        List<String> c = sequence(faulty(schemaAnswers(), 0.3, 8L, 50), request);
        assertThat(a).isEqualTo(b).isNotEqualTo(c);

        FaultyResponder never = faulty(schemaAnswers(), 0.0, 1L, 0);
        FaultyResponder always = faulty(schemaAnswers(), 1.0, 1L, 0);
        for (int i = 0; i < 200; i++) {
            Reply ok = never.respond(request);
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.delayMs()).isZero();
            always.respond(request);
        }
        assertThat(never.totalFaults()).isZero();
        assertThat(always.totalFaults()).isEqualTo(200);

        // the schema fault is valid JSON content that breaks the agent's schema
        Reply broken = null;
        FaultyResponder scan = faulty(schemaAnswers(), 1.0, 3L, 0);
        for (int i = 0; i < 100 && broken == null; i++) {
            int before = scan.faults().get("schema");
            Reply r = scan.respond(request);
            if (scan.faults().get("schema") > before) {
                broken = r;
            }
        }
        assertThat(broken).isNotNull();
        assertThat(broken.status()).isEqualTo(200);
        JsonNode content =
                readJson(readJson(broken.body()).at("/choices/0/message/content").asText());
        assertThat(content.isObject()).isTrue();
        assertThat(validate("insights", content)).isNotEmpty();

        assertThatThrownBy(() -> LoopbackLlmServer.injectedFaults(schemaAnswers()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> faulty(schemaAnswers(), 1.5, 1L, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<String> sequence(FaultyResponder faulty, RecordedRequest request)
            throws Exception {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            Reply r = faulty.respond(request);
            assertThat(r.delayMs()).isBetween(0L, 50L);
            out.add(r.status() + "/" + r.resetConnection() + "/" + r.delayMs());
        }
        return out;
    }

    @Test
    void delaysDoNotBlockOtherRequests() throws Exception {
        int n = 200;
        long delayMs = 200;
        Responder answers = schemaAnswers();
        server.setResponder(r -> answers.respond(r).withDelay(delayMs));
        HttpClient client =
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(Duration.ofSeconds(5))
                        .build();
        String body = schemaBody("summary", "Where is my refund?");
        AtomicInteger ok = new AtomicInteger();
        long start = System.nanoTime();
        List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            futures.add(
                    client.sendAsync(
                            request(server, "/v1/chat/completions")
                                    .POST(HttpRequest.BodyPublishers.ofString(body))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : futures) {
            if (f.get().statusCode() == 200) {
                ok.incrementAndGet();
            }
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        System.out.println(
                "concurrency: "
                        + n
                        + " concurrent requests delayed "
                        + delayMs
                        + " ms each took "
                        + elapsedMs
                        + " ms (serial would be "
                        + n * delayMs
                        + " ms)");
        assertThat(ok.get()).isEqualTo(n);
        assertThat(server.requestCount()).isEqualTo(n);
        assertThat(elapsedMs).isGreaterThanOrEqualTo(delayMs).isLessThan(10_000);
    }

    /**
     * Keep-alive requests one after another. With Nagle's algorithm on, the JDK server's split
     * header/body writes meet the client's delayed ACK and each request waits ~40 ms; the server
     * switches it off. The per-request time is printed (a benchmark figure, not asserted).
     */
    @Test
    void sequentialKeepAliveRequestsUseNoDelaySockets() throws Exception {
        assertThat(System.getProperty("sun.net.httpserver.nodelay")).isEqualTo("true");
        String body = schemaBody("sentiment", "hello");
        post(server, body); // warm-up
        int n = 100;
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            assertThat(post(server, body).statusCode()).isEqualTo(200);
        }
        double perRequestMs = (System.nanoTime() - start) / 1e6 / n;
        System.out.printf("sequential: %.2f ms per keep-alive request%n", perRequestMs);
    }

    @Test
    void closeIsIdempotentAndStopsServing() throws Exception {
        LoopbackLlmServer s = LoopbackLlmServer.start();
        assertThat(post(s, schemaBody("sentiment", "hi")).statusCode()).isEqualTo(200);
        s.close();
        s.close();
        assertThatThrownBy(() -> post(s, schemaBody("sentiment", "hi")))
                .isInstanceOf(IOException.class);
    }

    @Test
    void replyValidatesAndCopies() {
        assertThatThrownBy(() -> Reply.status(42, "")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Reply.status(200, "").withDelay(-1))
                .isInstanceOf(IllegalArgumentException.class);
        Reply r = Reply.status(200, "x").withHeader("X-A", "1").withHeader("x-a", "2").withDelay(5);
        assertThat(r.headers()).containsExactly(Map.entry("x-a", "2"));
        assertThat(r.delayMs()).isEqualTo(5);
        assertThat(Reply.reset().resetConnection()).isTrue();
        assertThatThrownBy(() -> server.setResponder(null))
                .isInstanceOf(NullPointerException.class);
    }
}
