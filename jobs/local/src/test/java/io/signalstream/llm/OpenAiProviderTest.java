package io.signalstream.llm;

import io.signalstream.agents.CallContext;
import io.signalstream.agents.FallbackAgentProvider;
import io.signalstream.agents.ProviderException;
import io.signalstream.agents.ProviderStats;
import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.config.AgentOptions;
import io.signalstream.config.ProviderOptions;
import io.signalstream.events.AgentResult;
import io.signalstream.events.AgentStatus;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.SourceRef;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.events.Usage;
import io.signalstream.local.llm.LoopbackLlmServer;
import io.signalstream.local.llm.LoopbackLlmServer.RecordedRequest;
import io.signalstream.local.llm.LoopbackLlmServer.Reply;
import io.signalstream.local.llm.LoopbackLlmServer.Responder;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.Configuration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Tests of {@link OpenAiProvider} against a real HTTP server on 127.0.0.1 ({@link
 * LoopbackLlmServer}): answers, request shape, PII redaction, retries, repair, timeouts, the
 * json_object downgrade, the request budget, the circuit breaker and the cache.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class OpenAiProviderTest {

    private static final AtomicInteger IDS = new AtomicInteger();
    private static final PiiDetector PII = new PiiDetector();
    private static final Set<String> SENT_PII_TYPES =
            Set.of(
                    PiiDetector.EMAIL_ADDRESS,
                    PiiDetector.CREDIT_CARD,
                    PiiDetector.PHONE_NUMBER,
                    "PERSON");

    /** Line 1 of ibm-twcc-dev.jsonl: a customer message holding a real e-mail address. */
    private static final String EMAIL = "zekidemir089@gmail.com";

    private static final String MODEL = "gpt-test-mini";
    private static final String NO_KEY_ENV = "SIGNALSTREAM_TEST_UNSET_API_KEY_VARIABLE";

    private final List<OpenAiProvider> providers = new ArrayList<>();
    private LoopbackLlmServer server;

    @TempDir Path tmp;

    @BeforeEach
    void startServer() {
        server = LoopbackLlmServer.start();
    }

    @AfterEach
    void stop() {
        for (OpenAiProvider p : providers) {
            p.close();
        }
        providers.clear();
        server.close();
    }

    // ------------------------------------------------------------------ 0. combined requests

    @Test
    void severalAgentsShareOneRequestAndKeepTheirOwnResults() throws Exception {
        server.setResponder(withUsage(900, 300));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        ConversationSnapshot s = snapshot(List.of(conversationLines().get(0)));
        List<String> agents = List.of("pii", "sentiment", "insights");

        List<CompletableFuture<AgentResult>> out = provider.analyzeAll(agents, s, CallContext.NONE);
        for (CompletableFuture<AgentResult> f : out) {
            await(f);
        }

        assertThat(server.requestCount()).isEqualTo(1);
        RecordedRequest req = server.requests().get(0);
        // The default compact schema form: no required lists, not strict.
        assertThat(req.json().at("/response_format/json_schema/strict").asBoolean()).isFalse();
        assertThat(req.json().at("/response_format/json_schema/schema").toString())
                .doesNotContain("\"required\"", "additionalProperties");
        assertThat(req.agent()).isEqualTo("agents");
        assertThat(req.json().at("/response_format/json_schema/schema/properties").size())
                .isEqualTo(3);
        assertThat(req.body()).doesNotContain(EMAIL).contains("<EMAIL_ADDRESS_1>");
        long promptTokens = 0;
        Set<String> hashes = new TreeSet<>();
        for (int i = 0; i < agents.size(); i++) {
            AgentResult r = await(out.get(i));
            assertThat(r.agent()).isEqualTo(agents.get(i));
            assertThat(r.status()).isEqualTo(AgentStatus.OK);
            assertThat(r.promptVersion()).isEqualTo(AgentPrompt.of(agents.get(i)).promptVersion());
            if (!"pii".equals(agents.get(i))) { // pii answers are merged with local findings
                assertThat(
                                AgentPrompt.of(agents.get(i))
                                        .validate(Json.MAPPER.valueToTree(r.result())))
                        .isEmpty();
            }
            promptTokens += r.usage().promptTokens();
            hashes.add(r.promptHash());
        }
        // Usage is split between the agents; each has its own cache key (prompt hash).
        assertThat(promptTokens).isBetween(900L - agents.size(), 900L);
        assertThat(hashes).hasSize(3);

        // The same version again: every part comes from the cache, no request.
        List<CompletableFuture<AgentResult>> again =
                provider.analyzeAll(agents, s, CallContext.NONE);
        for (CompletableFuture<AgentResult> f : again) {
            assertThat(await(f).status()).isEqualTo(AgentStatus.OK);
        }
        assertThat(server.requestCount()).isEqualTo(1);
    }

    @Test
    void aBrokenPartIsAskedAgainAloneAndTheOthersAreKept() throws Exception {
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        ConversationSnapshot s = snapshot(List.of(conversationLines().get(0)));
        server.setResponder(
                req -> {
                    Reply valid = LoopbackLlmServer.schemaAnswers().respond(req);
                    if (!"agents".equals(req.agent())) {
                        return valid;
                    }
                    ObjectNode content =
                            (ObjectNode)
                                    Json.MAPPER.readTree(
                                            Json.MAPPER
                                                    .readTree(valid.body())
                                                    .at("/choices/0/message/content")
                                                    .asText());
                    ((ObjectNode) content.get("sentiment")).put("label", "furious");
                    return Reply.ok(content, 500, 100);
                });

        List<CompletableFuture<AgentResult>> out =
                provider.analyzeAll(List.of("pii", "sentiment"), s, CallContext.NONE);
        AgentResult pii = await(out.get(0));
        AgentResult sentiment = await(out.get(1));

        assertThat(pii.status()).isEqualTo(AgentStatus.OK);
        assertThat(sentiment.status()).isEqualTo(AgentStatus.OK);
        assertThat(sentiment.result().get("label")).isIn("positive", "neutral", "negative");
        assertThat(server.requests())
                .extracting(RecordedRequest::agent)
                .containsExactly("agents", "sentiment");
        assertThat(ProviderStats.of(name).snapshot().get("repairs")).isEqualTo(1);
    }

    @Test
    void aFailedCombinedRequestFallsBackPerAgent() throws Exception {
        server.setResponder(req -> Reply.error(400, "bad request", "invalid_request_error", null));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        ConversationSnapshot s = snapshot(List.of(conversationLines().get(0)));
        LocalAgentProvider local = new LocalAgentProvider(1);
        // pii falls back to local; the custom-like agent without fallback fails alone.
        FallbackAgentProvider withFallback =
                new FallbackAgentProvider(provider, Map.of("pii", local));

        List<CompletableFuture<AgentResult>> out =
                withFallback.analyzeAll(List.of("pii", "sentiment"), s, CallContext.NONE);

        AgentResult pii = await(out.get(0));
        assertThat(pii.status()).isEqualTo(AgentStatus.FALLBACK);
        assertThat(pii.provider()).isEqualTo("local");
        assertThat(pii.error()).startsWith(name + " failed:");
        assertThat(failure(out.get(1)).reason()).contains("400");
        assertThat(server.requestCount()).isEqualTo(1);
        local.close();
    }

    // ------------------------------------------------------------------ 1. valid answers

    @ParameterizedTest
    @ValueSource(strings = {"sentiment", "pii", "insights", "summary"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void validAnswerOfEachAgentBecomesAnOkResult(String agent) throws Exception {
        server.setResponder(withUsage(111, 22));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        JsonNode line = conversationLines().get(0);
        assertThat(line.get("message").asText()).contains(EMAIL);
        ConversationSnapshot s = snapshot(List.of(line));

        AgentResult r = await(provider.analyze(agent, s));

        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.error()).isNull();
        assertThat(r.agent()).isEqualTo(agent);
        assertThat(r.provider()).isEqualTo(name);
        assertThat(r.model()).isEqualTo(MODEL);
        assertThat(r.promptVersion())
                .isEqualTo(AgentPrompt.of(agent).promptVersion())
                .matches("v2-[0-9a-f]{8}");
        assertThat(r.promptHash()).matches("[0-9a-f]{16}");
        assertThat(r.usage()).isEqualTo(new Usage(111, 22));
        assertThat(r.attempts()).isEqualTo(1);
        assertThat(r.tenantId()).isEqualTo("TeamYouTube");
        assertThat(r.conversationId()).isEqualTo(line.get("conversation_id").asText());
        assertThat(r.messageId()).isEqualTo(s.lastMessage().messageId());
        assertThat(r.version()).isEqualTo(1);
        assertThat(r.latencyMs()).isGreaterThanOrEqualTo(0);

        if ("pii".equals(agent)) {
            String original = s.lastMessage().message();
            assertThat(r.result()).containsEntry("has_pii", true);
            List<Map<String, Object>> entities = entities(r);
            assertThat(entities).isNotEmpty();
            assertThat(entities)
                    .allSatisfy(
                            e -> {
                                assertThat(e).containsOnlyKeys("type", "start", "end", "score");
                                assertThat((int) e.get("start")).isBetween(0, original.length());
                                assertThat((int) e.get("end"))
                                        .isBetween((int) e.get("start") + 1, original.length());
                            });
            assertThat(entities)
                    .filteredOn(e -> PiiDetector.EMAIL_ADDRESS.equals(e.get("type")))
                    .singleElement()
                    .satisfies(
                            e ->
                                    assertThat(
                                                    original.substring(
                                                            (int) e.get("start"),
                                                            (int) e.get("end")))
                                            .isEqualTo(EMAIL));
            assertThat((String) r.result().get("redacted_text"))
                    .contains("<EMAIL_ADDRESS_1>")
                    .doesNotContain(EMAIL);
        } else {
            JsonNode answer = Json.MAPPER.valueToTree(r.result());
            assertThat(AgentPrompt.of(agent).validate(answer)).isEmpty();
            // The result is exactly the model's answer.
            assertThat(answer).isEqualTo(answerContent(server.requests().get(0)));
        }
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void piiEntityNamedByTheModelGetsOffsetsIntoTheOriginalMessage() throws Exception {
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        String text = "Hi, my name is Maria Lopez, write to maria.lopez@example.com please";
        ConversationSnapshot s = snapshot("acme", "c-person", text);

        AgentResult r = await(provider.analyze("pii", s));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        // The model saw the redacted prompt ("Message:\n..."), yet the offsets are the message's.
        assertThat(server.requests().get(0).lastUserMessage())
                .contains("<EMAIL_ADDRESS_1>")
                .doesNotContain("maria.lopez@example.com");
        List<Map<String, Object>> entities = entities(r);
        assertThat(entities)
                .extracting(e -> e.get("type"))
                .containsExactly("PERSON", PiiDetector.EMAIL_ADDRESS);
        Map<String, Object> person = entities.get(0);
        assertThat(person.get("start")).isEqualTo(text.indexOf("Maria Lopez"));
        assertThat(person.get("end"))
                .isEqualTo(text.indexOf("Maria Lopez") + "Maria Lopez".length());
        Map<String, Object> email = entities.get(1);
        assertThat(text.substring((int) email.get("start"), (int) email.get("end")))
                .isEqualTo("maria.lopez@example.com");
        assertThat(r.result().get("redacted_text"))
                .isEqualTo("Hi, my name is <PERSON_1>, write to <EMAIL_ADDRESS_1> please");
    }

    // ------------------------------------------------------------------ 2. the request

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void requestCarriesKeyFromFileModelParametersAndStrictJsonSchema() throws Exception {
        Path keyFile = tmp.resolve("openai.key");
        Files.writeString(keyFile, "sk-test-abc123\n", StandardCharsets.UTF_8);
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.apiKeyFile(name), keyFile.toString());
        c.set(ProviderOptions.temperature(name), 0.3);
        c.set(ProviderOptions.maxTokens(name), 321);
        c.set(ProviderOptions.responseFormat(name), "json_schema_strict");
        OpenAiProvider provider = provider(name, c);

        await(provider.analyze("sentiment", snapshot("acme", "c-req", "The app is great, thanks")));

        assertThat(server.requests()).hasSize(1);
        RecordedRequest req = server.requests().get(0);
        assertThat(req.method()).isEqualTo("POST");
        assertThat(req.path()).isEqualTo("/v1/chat/completions");
        assertThat(req.headers()).containsEntry("authorization", "Bearer sk-test-abc123");
        assertThat(req.headers().get("content-type")).startsWith("application/json");
        JsonNode body = req.json();
        assertThat(body).isNotNull();
        assertThat(body.get("model").asText()).isEqualTo(MODEL);
        assertThat(body.get("temperature").asDouble()).isEqualTo(0.3);
        assertThat(body.get("max_tokens").asInt()).isEqualTo(321);
        JsonNode format = body.get("response_format");
        assertThat(format.get("type").asText()).isEqualTo("json_schema");
        assertThat(format.at("/json_schema/name").asText()).isEqualTo("signalstream_sentiment");
        assertThat(format.at("/json_schema/strict").isBoolean()).isTrue();
        assertThat(format.at("/json_schema/strict").asBoolean()).isTrue();
        JsonNode schema = format.at("/json_schema/schema");
        assertThat(schema.get("required")).hasSize(5);
        // Keywords strict structured output rejects are stripped.
        assertThat(schema.toString()).doesNotContain("$schema", "\"title\"", "minimum", "maximum");
        JsonNode messages = body.get("messages");
        assertThat(messages).hasSize(2);
        assertThat(messages.get(0).get("role").asText()).isEqualTo("system");
        assertThat(messages.get(0).get("content").asText())
                .contains("SignalStream sentiment agent");
        assertThat(messages.get(1).get("role").asText()).isEqualTo("user");
        assertThat(messages.get(1).get("content").asText()).contains("The app is great, thanks");
        // The body is written without a tree, as the tree {model, temperature, max_tokens,
        // messages, response_format} serialized by Json.MAPPER would be, byte for byte.
        assertThat(fieldNames(body))
                .containsExactly(
                        "model", "temperature", "max_tokens", "messages", "response_format");
        assertThat(req.body()).isEqualTo(Json.toString(body));
    }

    /** Field names of a JSON object, in order. */
    private static List<String> fieldNames(JsonNode object) {
        List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void noAuthorizationHeaderWithoutKey() throws Exception {
        assertThat(System.getenv(NO_KEY_ENV)).isNull();
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        AgentResult r = await(provider.analyze("summary", snapshot("acme", "c-nokey", "Hello")));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(server.requests()).hasSize(1);
        assertThat(server.requests().get(0).headers()).doesNotContainKey("authorization");
    }

    // ------------------------------------------------------------------ 3. PII redaction

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void piiOfTheRealConversationsNeverLeavesTheProcess() throws Exception {
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        List<JsonNode> lines = conversationLines();
        Map<String, List<JsonNode>> byConversation = new LinkedHashMap<>();
        for (JsonNode n : lines) {
            byConversation
                    .computeIfAbsent(n.get("conversation_id").asText(), k -> new ArrayList<>())
                    .add(n);
        }
        byConversation
                .values()
                .forEach(l -> l.sort(Comparator.comparingInt(n -> n.get("turn_index").asInt())));

        int checkedMessages = 0;
        Set<String> typesSeen = new TreeSet<>();
        for (JsonNode line : lines) {
            List<PiiEntity> found = sensitive(line.get("message").asText());
            if (found.isEmpty()) {
                continue;
            }
            checkedMessages++;
            List<JsonNode> conversation = byConversation.get(line.get("conversation_id").asText());
            List<JsonNode> window = new ArrayList<>();
            for (JsonNode n : conversation) {
                if (n.get("turn_index").asInt() <= line.get("turn_index").asInt()) {
                    window.add(n);
                }
            }
            window = window.subList(Math.max(0, window.size() - 10), window.size());
            // Every raw value of the window (the summary sends the whole window). A name is
            // looked for as a whole word: "Dan" may be part of another word of the prompt.
            Set<String> raw = new LinkedHashSet<>();
            Set<Pattern> rawNames = new LinkedHashSet<>();
            for (JsonNode n : window) {
                for (PiiEntity e : sensitive(n.get("message").asText())) {
                    if ("PERSON".equals(e.type())) {
                        rawNames.add(Pattern.compile("\\b" + Pattern.quote(e.text()) + "\\b"));
                    } else {
                        raw.add(e.text());
                    }
                }
            }
            ConversationSnapshot s = snapshot(window);

            server.clearRequests();
            AgentResult summary = await(provider.analyze("summary", s));
            AgentResult sentiment = await(provider.analyze("sentiment", s));

            assertThat(summary.status()).isEqualTo(AgentStatus.OK);
            assertThat(sentiment.status()).isEqualTo(AgentStatus.OK);
            List<RecordedRequest> requests = server.requests();
            assertThat(requests).as("requests for line %s", line).hasSize(2);
            for (RecordedRequest req : requests) {
                for (String value : raw) {
                    assertThat(req.body())
                            .as("request body of %s", req.agent())
                            .doesNotContain(value);
                    assertThat(req.allMessageText()).doesNotContain(value);
                }
                for (Pattern nameWord : rawNames) {
                    assertThat(nameWord.matcher(req.allMessageText()).find())
                            .as("name %s in the %s request", nameWord, req.agent())
                            .isFalse();
                }
                for (PiiEntity e : found) {
                    typesSeen.add(e.type());
                    // the user message: the system prompts mention placeholders themselves
                    assertThat(req.lastUserMessage())
                            .as("placeholder for %s in the %s request", e.type(), req.agent())
                            .contains("<" + e.type() + "_");
                }
            }
        }
        assertThat(checkedMessages)
                .as("messages with e-mail/card/phone in the file")
                .isGreaterThanOrEqualTo(10);
        assertThat(typesSeen)
                .contains(PiiDetector.EMAIL_ADDRESS, PiiDetector.PHONE_NUMBER, "PERSON");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void personNamesAreReplacedButPlacesAreKept() throws Exception {
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        String text =
                "Hello, this is Maria Gonzalez. My flight to Italy was cancelled and nobody"
                        + " called me back.";
        assertThat(PII.detect(text))
                .extracting(PiiEntity::type, PiiEntity::text)
                .contains(tuple("PERSON", "Maria Gonzalez"));

        AgentResult sentiment =
                await(provider.analyze("sentiment", snapshot("acme", "c-name", text)));

        assertThat(sentiment.status()).isEqualTo(AgentStatus.OK);
        assertThat(server.requests().get(0).body()).doesNotContain("Maria", "Gonzalez");
        assertThat(server.requests().get(0).lastUserMessage())
                .contains("<PERSON_1>")
                .contains("flight to Italy was cancelled");
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void syntheticCardPhoneAndEmailAreReplacedByPlaceholders() throws Exception {
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        String card = "4111 1111 1111 1111";
        String phone = "+1 212 555 0123";
        String mail = "jane.doe@example.org";
        String text =
                "My card "
                        + card
                        + " was charged twice! Call me at "
                        + phone
                        + " or mail "
                        + mail
                        + ", it is urgent.";
        assertThat(sensitive(text))
                .extracting(PiiEntity::type)
                .containsExactlyInAnyOrder(
                        PiiDetector.CREDIT_CARD,
                        PiiDetector.PHONE_NUMBER,
                        PiiDetector.EMAIL_ADDRESS);

        AgentResult summary = await(provider.analyze("summary", snapshot("acme", "c-syn", text)));
        AgentResult sentiment =
                await(provider.analyze("sentiment", snapshot("acme", "c-syn", text)));

        assertThat(summary.status()).isEqualTo(AgentStatus.OK);
        assertThat(sentiment.status()).isEqualTo(AgentStatus.OK);
        assertThat(server.requests())
                .hasSize(2)
                .allSatisfy(
                        req -> {
                            assertThat(req.body())
                                    .doesNotContain(
                                            card, "4111111111111111", phone, "555 0123", mail);
                            assertThat(req.lastUserMessage())
                                    .contains(
                                            "<CREDIT_CARD_1>",
                                            "<PHONE_NUMBER_1>",
                                            "<EMAIL_ADDRESS_1>");
                        });
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void redactionCanBeSwitchedOff() throws Exception {
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.redactPii(name), false);
        OpenAiProvider provider = provider(name, c);

        await(
                provider.analyze(
                        "sentiment", snapshot("acme", "c-raw", "mail me: jane.doe@example.org")));

        assertThat(server.requests().get(0).lastUserMessage())
                .contains("jane.doe@example.org")
                .doesNotContain("<EMAIL_ADDRESS_1>");
    }

    // ------------------------------------------------------------------ 4. not retried

    @ParameterizedTest
    @ValueSource(ints = {400, 401, 403, 404})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void clientErrorsAreNotRetried(int status) throws Exception {
        server.setResponder(
                req ->
                        Reply.error(
                                status,
                                "Incorrect API key provided: sk-...",
                                "invalid_request_error",
                                "invalid_api_key"));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        ProviderException first =
                failure(provider.analyze("sentiment", snapshot("acme", "c-4xx", "hi")));

        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(first.reason())
                .contains("HTTP " + status + ": Incorrect API key provided")
                .contains("(1 attempts)");
        assertThat(first.attempts()).isEqualTo(1);

        for (int i = 0; i < 5; i++) {
            ProviderException e =
                    failure(
                            provider.analyze(
                                    "sentiment", snapshot("acme", "c-4xx-" + i, "hi " + i)));
            assertThat(e.reason()).contains("HTTP " + status);
            assertThat(e.attempts()).isEqualTo(1);
        }
        // Give a (wrong) retry the time to show up: none may.
        Thread.sleep(200);
        assertThat(server.requestCount()).isEqualTo(6);
        ProviderStats stats = ProviderStats.of(name);
        assertThat(stats.retries.get()).isZero();
        assertThat(stats.failures.get()).isEqualTo(6);
        assertThat(stats.requests.get()).isEqualTo(6);
    }

    // ------------------------------------------------------------------ 5. retries

    @ParameterizedTest
    @CsvSource({"429", "503"})
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void retryAfterIsHonoured(int status) throws Exception {
        server.setResponder(
                script(
                        Reply.error(status, "slow down", "requests", "rate_limit_exceeded")
                                .withHeader("Retry-After", "1")));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        AgentResult r = await(provider.analyze("sentiment", snapshot("acme", "c-ra", "hello")));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.attempts()).isEqualTo(2);
        List<RecordedRequest> requests = server.requests();
        assertThat(requests).hasSize(2);
        long gapMs = gapMs(requests.get(0), requests.get(1));
        System.out.printf("Retry-After %d: second request %d ms after the first%n", status, gapMs);
        // initial backoff is 50 ms: only Retry-After explains a wait of a second (the upper
        // bound leaves room for a loaded machine)
        assertThat(gapMs).isBetween(995L, 10_000L);
        assertThat(ProviderStats.of(name).retries.get()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void serverErrorsAreRetriedWithJitteredExponentialBackoff() throws Exception {
        // Per conversation: 500, 500, then the valid answer.
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        server.setResponder(
                req -> {
                    int n =
                            seen.computeIfAbsent(req.lastUserMessage(), k -> new AtomicInteger())
                                    .getAndIncrement();
                    return n < 2
                            ? Reply.error(500, "boom", "server_error", null)
                            : LoopbackLlmServer.schemaAnswers().respond(req);
                });
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryInitialBackoff(name), Duration.ofMillis(200));
        c.set(ProviderOptions.retryMaxBackoff(name), Duration.ofSeconds(5));
        OpenAiProvider provider = provider(name, c);

        int calls = 8;
        List<CompletableFuture<AgentResult>> futures = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            futures.add(
                    provider.analyze("sentiment", snapshot("acme", "c-500-" + i, "message " + i)));
        }
        for (CompletableFuture<AgentResult> f : futures) {
            AgentResult r = await(f);
            assertThat(r.status()).isEqualTo(AgentStatus.OK);
            assertThat(r.attempts()).isEqualTo(3);
        }

        Map<String, List<RecordedRequest>> byMessage = new LinkedHashMap<>();
        for (RecordedRequest req : server.requests()) {
            byMessage.computeIfAbsent(req.lastUserMessage(), k -> new ArrayList<>()).add(req);
        }
        assertThat(byMessage).hasSize(calls);
        List<Long> firstGaps = new ArrayList<>();
        List<Long> secondGaps = new ArrayList<>();
        for (List<RecordedRequest> reqs : byMessage.values()) {
            assertThat(reqs).hasSize(3);
            firstGaps.add(gapMs(reqs.get(0), reqs.get(1)));
            secondGaps.add(gapMs(reqs.get(1), reqs.get(2)));
        }
        System.out.println(
                "500 backoffs: first " + firstGaps + " ms, second " + secondGaps + " ms");
        // equal jitter: first backoff in [100, 200] ms, second in [200, 400] ms, plus loopback
        // and scheduling time (the upper bounds only catch a backoff that is far too long)
        assertThat(firstGaps).allSatisfy(g -> assertThat(g).isBetween(98L, 5_000L));
        assertThat(secondGaps).allSatisfy(g -> assertThat(g).isBetween(198L, 5_000L));
        // jittered: the calls did not all wait the same time
        long spread =
                firstGaps.stream().mapToLong(Long::longValue).max().getAsLong()
                        - firstGaps.stream().mapToLong(Long::longValue).min().getAsLong();
        assertThat(spread).isGreaterThan(5L);
        assertThat(ProviderStats.of(name).retries.get()).isEqualTo(2L * calls);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void serverErrorsUntilTheAttemptsAreExhaustedFail() throws Exception {
        server.setResponder(req -> Reply.error(502, "bad gateway", "server_error", null));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 3);
        OpenAiProvider provider = provider(name, c);

        ProviderException e = failure(provider.analyze("summary", snapshot("acme", "c-502", "hi")));

        assertThat(e.reason()).contains("HTTP 502").contains("(3 attempts)");
        assertThat(e.attempts()).isEqualTo(3);
        assertThat(server.requestCount()).isEqualTo(3);
    }

    // ------------------------------------------------------------------ 6. bodies and repair

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void malformedBodyIsRetried() throws Exception {
        assertRetriedOnceThenOk(Reply.malformedBody(), "c-mal");
        // a retry, not a repair: the second request is the first one again
        assertThat(server.requests().get(1).json().get("messages")).hasSize(2);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void malformedBodyEveryTimeFails() throws Exception {
        server.setResponder(req -> Reply.malformedBody());
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 2);
        OpenAiProvider provider = provider(name, c);

        ProviderException e =
                failure(provider.analyze("sentiment", snapshot("acme", "c-mal2", "hi")));

        assertThat(e.reason()).contains("malformed response body");
        assertThat(server.requestCount()).isEqualTo(2);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void schemaBreakingAnswerGetsOneRepairRequest() throws Exception {
        String bad = "{\"label\":\"positive\"}";
        server.setResponder(script(Reply.okText(bad, 100, 5)));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        AgentResult r =
                await(provider.analyze("sentiment", snapshot("acme", "c-rep", "great, thanks")));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(r.result()).containsKeys("label", "score", "confidence", "emotion", "reasoning");
        List<RecordedRequest> requests = server.requests();
        assertThat(requests).hasSize(2);
        JsonNode first = requests.get(0).json().get("messages");
        JsonNode repair = requests.get(1).json().get("messages");
        assertThat(repair).hasSize(4);
        assertThat(repair.get(0)).isEqualTo(first.get(0));
        assertThat(repair.get(1)).isEqualTo(first.get(1));
        assertThat(repair.get(2).get("role").asText()).isEqualTo("assistant");
        assertThat(repair.get(2).get("content").asText()).isEqualTo(bad);
        assertThat(repair.get(3).get("role").asText()).isEqualTo("user");
        assertThat(repair.get(3).get("content").asText())
                .contains("does not match the schema")
                .contains("score");
        // usage of both requests is counted
        JsonNode secondUsage = answerEnvelopeUsage(requests.get(1));
        assertThat(r.usage().promptTokens()).isEqualTo(100 + secondUsage.get(0).asLong());
        assertThat(r.usage().completionTokens()).isEqualTo(5 + secondUsage.get(1).asLong());
        assertThat(ProviderStats.of(name).repairs.get()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void schemaBrokenTwiceFails() throws Exception {
        server.setResponder(req -> Reply.okText("{\"label\":\"positive\"}", 10, 5));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        ProviderException e =
                failure(provider.analyze("sentiment", snapshot("acme", "c-rep2", "hi")));

        assertThat(e.reason()).contains("does not match the schema");
        assertThat(e.attempts()).isEqualTo(2);
        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(ProviderStats.of(name).repairs.get()).isEqualTo(1);
    }

    // ------------------------------------------------------------------ 7. transport faults

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void slowReplyTimesOutAndIsRetried() throws Exception {
        // The first reply would take 10 s; the request timeout is 300 ms.
        server.setResponder(script(Reply.ok(sentimentAnswer(), 1, 1).withDelay(10_000)));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.requestTimeout(name), Duration.ofMillis(300));
        OpenAiProvider provider = provider(name, c);

        long start = System.nanoTime();
        AgentResult r = await(provider.analyze("sentiment", snapshot("acme", "c-slow", "hello")));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.attempts()).isEqualTo(2);
        List<RecordedRequest> requests = server.requests();
        assertThat(requests).hasSize(2);
        long gap = gapMs(requests.get(0), requests.get(1));
        System.out.println(
                "request timeout: retry " + gap + " ms after the first, call " + tookMs + " ms");
        // not before the request timeout, and long before the slow reply would have come
        assertThat(gap).isBetween(290L, 8_000L);
        assertThat(tookMs).isLessThan(9_000L);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void slowReplyEveryTimeFailsAsTimedOut() throws Exception {
        server.setResponder(req -> Reply.ok(sentimentAnswer(), 1, 1).withDelay(2000));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.requestTimeout(name), Duration.ofMillis(300));
        c.set(ProviderOptions.retryMaxAttempts(name), 2);
        OpenAiProvider provider = provider(name, c);

        ProviderException e =
                failure(provider.analyze("sentiment", snapshot("acme", "c-slow2", "hi")));

        assertThat(e.reason()).contains("request timed out").contains("(2 attempts)");
        assertThat(server.requestCount()).isEqualTo(2);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectionResetIsRetried() throws Exception {
        assertRetriedOnceThenOk(Reply.reset(), "c-reset");
    }

    /** The server answers {@code fault} once, then correctly: one retry, then an ok result. */
    private void assertRetriedOnceThenOk(Reply fault, String conversation) throws Exception {
        server.setResponder(script(fault));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        AgentResult r =
                await(provider.analyze("sentiment", snapshot("acme", conversation, "hello")));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(server.requestCount()).isEqualTo(2);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectionResetEveryTimeFailsAsConnectionError() throws Exception {
        server.setResponder(req -> Reply.reset());
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 2);
        OpenAiProvider provider = provider(name, c);

        ProviderException e =
                failure(provider.analyze("sentiment", snapshot("acme", "c-reset2", "hi")));

        assertThat(e.reason()).contains("connection error");
        assertThat(e.attempts()).isEqualTo(2);
        assertThat(server.requestCount()).isEqualTo(2);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void connectionRefusedFailsAfterTheAttempts() throws Exception {
        String name = newName();
        Configuration c = conf(name, "http://127.0.0.1:" + closedPort() + "/v1");
        c.set(ProviderOptions.retryMaxAttempts(name), 3);
        OpenAiProvider provider = provider(name, c);

        ProviderException e =
                failure(provider.analyze("sentiment", snapshot("acme", "c-refused", "hi")));

        assertThat(e.reason()).contains("connection error").contains("(3 attempts)");
        assertThat(e.attempts()).isEqualTo(3);
        assertThat(ProviderStats.of(name).requests.get()).isEqualTo(3);
        assertThat(ProviderStats.of(name).retries.get()).isEqualTo(2);
    }

    // ------------------------------------------------------------------ 8. json_object

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void serverWithoutJsonSchemaGetsJsonObjectFromThenOn() throws Exception {
        server.setRejectJsonSchema(true);
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));

        AgentResult r =
                await(provider.analyze("summary", snapshot("acme", "c-jo", "my order is late")));

        assertThat(r.status()).isEqualTo(AgentStatus.OK);
        // the downgrade is not counted as an attempt
        assertThat(r.attempts()).isEqualTo(1);
        List<RecordedRequest> requests = server.requests();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(0).responseFormatType()).isEqualTo("json_schema");
        RecordedRequest second = requests.get(1);
        assertThat(second.responseFormatType()).isEqualTo("json_object");
        assertThat(second.json().get("response_format").has("json_schema")).isFalse();
        assertThat(second.body()).isEqualTo(Json.toString(second.json()));
        JsonNode system = second.json().get("messages").get(0);
        assertThat(system.get("role").asText()).isEqualTo("system");
        assertThat(system.get("content").asText())
                .contains("The JSON must match this schema")
                .contains("\"resolution_status\"")
                .contains("\"key_points\"");

        AgentResult later =
                await(provider.analyze("sentiment", snapshot("acme", "c-jo2", "thanks")));

        assertThat(later.status()).isEqualTo(AgentStatus.OK);
        assertThat(later.attempts()).isEqualTo(1);
        assertThat(server.requests()).hasSize(3);
        assertThat(server.requests().get(2).responseFormatType()).isEqualTo("json_object");
        assertThat(server.requests().get(2).json().at("/messages/0/content").asText())
                .contains("The JSON must match this schema")
                .contains("\"emotion\"");
    }

    // ------------------------------------------------------------------ 9. budget

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void budgetHoldsTheRequestRateWithoutBlockingTheCaller() throws Exception {
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.requestsPerMinute(name), 120);
        c.set(AgentOptions.TIMEOUT, Duration.ofSeconds(60));
        // warm up prompt loading and PII detection outside the measurement
        AgentPrompt.of("sentiment").render(snapshot("acme", "warm", "warm up"), true);
        Instant t0 = Instant.now();
        OpenAiProvider provider = provider(name, c);

        int calls = 130;
        List<CompletableFuture<AgentResult>> futures = new ArrayList<>();
        long slowestQueuedCallNanos = 0;
        for (int i = 0; i < calls; i++) {
            long s = System.nanoTime();
            futures.add(
                    provider.analyze(
                            "sentiment", snapshot("acme", "c-b" + i, "message number " + i)));
            if (i >= 120) {
                slowestQueuedCallNanos = Math.max(slowestQueuedCallNanos, System.nanoTime() - s);
            }
        }
        Instant loopEnd = Instant.now();
        for (CompletableFuture<AgentResult> f : futures.subList(0, 120)) {
            assertThat(await(f).status()).isEqualTo(AgentStatus.OK);
        }
        // the burst is answered, the budget still exhausted: one more call is queued
        long s = System.nanoTime();
        CompletableFuture<AgentResult> extra =
                provider.analyze("sentiment", snapshot("acme", "c-b-extra", "one more message"));
        long extraCallMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - s);
        assertThat(extra).isNotDone();
        System.out.println(
                "budget exhausted: analyze() returned in "
                        + extraCallMs
                        + " ms, slowest queued call of the burst "
                        + TimeUnit.NANOSECONDS.toMillis(slowestQueuedCallNanos)
                        + " ms");

        for (CompletableFuture<AgentResult> f : futures.subList(120, calls)) {
            assertThat(await(f).status()).isEqualTo(AgentStatus.OK);
        }
        List<Instant> arrivals = new ArrayList<>();
        server.requests().forEach(r -> arrivals.add(r.receivedAt()));
        arrivals.sort(Comparator.naturalOrder());
        assertThat(arrivals).hasSizeGreaterThanOrEqualTo(calls);
        long burstMs = Duration.between(arrivals.get(0), arrivals.get(119)).toMillis();
        long totalMs = Duration.between(arrivals.get(0), arrivals.get(129)).toMillis();
        List<Long> tailGaps = new ArrayList<>();
        for (int i = 121; i < calls; i++) {
            tailGaps.add(Duration.between(arrivals.get(i - 1), arrivals.get(i)).toMillis());
        }
        System.out.println(
                "budget 120/min: first 120 within "
                        + burstMs
                        + " ms, 130th after "
                        + totalMs
                        + " ms, gaps of the last 10: "
                        + tailGaps);
        // The caller was not held: all 130 calls had returned before the budget let the 126th
        // request go (3 s after the bucket existed). A caller that waited for its grant would
        // return from the 130th call only after 5 s.
        assertThat(loopEnd).isBefore(arrivals.get(125));
        // The bucket starts full: the first 120 go at once (the budget alone would hold them
        // back for up to 60 s; the bound leaves room for a loaded machine).
        assertThat(burstMs).isLessThan(20_000L);
        // Then one request per 0.5 s: the (120+k)-th not before k × 500 ms after the bucket
        // exists (exact: the refill is deterministic). Upper bounds only catch a grant that is
        // far too late; the spacing itself is printed above.
        for (int k = 1; k <= 10; k++) {
            assertThat(Duration.between(t0, arrivals.get(119 + k)).toMillis())
                    .as("arrival of request %d", 120 + k)
                    .isBetween(k * 500L - 5, k * 500L + 20_000);
        }

        assertThat(await(extra).status()).isEqualTo(AgentStatus.OK);
        assertThat(Duration.between(t0, server.requests().get(calls).receivedAt()).toMillis())
                .isGreaterThanOrEqualTo(5500L - 5);
    }

    // ------------------------------------------------------------------ 10. circuit breaker

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void circuitOpensAfterConsecutiveFailuresAndClosesAfterAGoodProbe() throws Exception {
        server.setResponder(req -> Reply.error(500, "down", "server_error", null));
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.retryMaxAttempts(name), 1);
        c.set(ProviderOptions.circuitFailureThreshold(name), 3);
        c.set(ProviderOptions.circuitCoolDown(name), Duration.ofMillis(500));
        OpenAiProvider provider = provider(name, c);
        AtomicInteger n = new AtomicInteger();

        for (int i = 0; i < 3; i++) {
            ProviderException e = failure(provider.analyze("sentiment", next(n)));
            assertThat(e.reason()).contains("HTTP 500");
        }
        assertThat(server.requestCount()).isEqualTo(3);

        CompletableFuture<AgentResult> rejected = provider.analyze("sentiment", next(n));
        assertThat(rejected).isCompletedExceptionally();
        assertThat(failure(rejected).reason()).contains("circuit open");
        assertThat(failure(rejected).attempts()).isZero();
        assertThat(server.requestCount()).isEqualTo(3);

        // after the cool-down one probe goes through; while it is in flight others are refused
        Thread.sleep(600);
        server.setResponder(
                req -> Reply.error(500, "still down", "server_error", null).withDelay(200));
        CompletableFuture<AgentResult> probe = provider.analyze("sentiment", next(n));
        CompletableFuture<AgentResult> duringProbe = provider.analyze("sentiment", next(n));
        assertThat(failure(duringProbe).reason()).contains("circuit open");
        assertThat(failure(probe).reason()).contains("HTTP 500");
        assertThat(server.requestCount()).isEqualTo(4);
        // the failed probe opened the circuit again
        assertThat(failure(provider.analyze("sentiment", next(n))).reason())
                .contains("circuit open");
        assertThat(server.requestCount()).isEqualTo(4);

        // healthy again: after the cool-down the probe succeeds and the circuit closes
        server.setResponder(LoopbackLlmServer.schemaAnswers());
        Thread.sleep(600);
        assertThat(await(provider.analyze("sentiment", next(n))).status())
                .isEqualTo(AgentStatus.OK);
        assertThat(await(provider.analyze("sentiment", next(n))).status())
                .isEqualTo(AgentStatus.OK);
        assertThat(await(provider.analyze("sentiment", next(n))).status())
                .isEqualTo(AgentStatus.OK);
        assertThat(server.requestCount()).isEqualTo(7);
        assertThat(ProviderStats.of(name).circuitRejections.get()).isEqualTo(3);
    }

    // ------------------------------------------------------------------ 11. cache

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void sameSnapshotIsAnsweredFromTheCache() throws Exception {
        server.setResponder(withUsage(50, 7));
        String name = newName();
        OpenAiProvider provider = provider(name, conf(name, server.baseUrl()));
        ConversationSnapshot s = snapshot("acme", "c-cache", "The refund never arrived, terrible");

        AgentResult first = await(provider.analyze("sentiment", s));
        AgentResult second = await(provider.analyze("sentiment", s));

        assertThat(server.requestCount()).isEqualTo(1);
        assertThat(first.attempts()).isEqualTo(1);
        assertThat(first.usage()).isEqualTo(new Usage(50, 7));
        assertThat(second.status()).isEqualTo(AgentStatus.OK);
        assertThat(second.attempts()).isZero();
        assertThat(second.usage()).isEqualTo(Usage.NONE);
        assertThat(second.result()).isEqualTo(first.result());
        assertThat(second.promptHash()).isEqualTo(first.promptHash());
        assertThat(second.promptVersion()).isEqualTo(first.promptVersion());
        assertThat(ProviderStats.of(name).cacheHits.get()).isEqualTo(1);
        assertThat(ProviderStats.of(name).cacheMisses.get()).isEqualTo(1);

        AgentResult other =
                await(
                        provider.analyze(
                                "sentiment",
                                snapshot("acme", "c-cache", "Thanks, the refund arrived")));
        assertThat(other.attempts()).isEqualTo(1);
        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(ProviderStats.of(name).cacheHits.get()).isEqualTo(1);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void cacheSizeZeroDisablesTheCache() throws Exception {
        String name = newName();
        Configuration c = conf(name, server.baseUrl());
        c.set(ProviderOptions.cacheSize(name), 0);
        OpenAiProvider provider = provider(name, c);
        ConversationSnapshot s = snapshot("acme", "c-nocache", "hello there");

        AgentResult first = await(provider.analyze("sentiment", s));
        AgentResult second = await(provider.analyze("sentiment", s));

        assertThat(server.requestCount()).isEqualTo(2);
        assertThat(first.attempts()).isEqualTo(1);
        assertThat(second.attempts()).isEqualTo(1);
        assertThat(ProviderStats.of(name).cacheHits.get()).isZero();
    }

    // ------------------------------------------------------------------ helpers

    private static String newName() {
        return "openai-t" + IDS.incrementAndGet();
    }

    /** Fast settings: small backoffs, a 10 s call deadline, no key, a fixed model name. */
    private static Configuration conf(String name, String baseUrl) {
        Configuration c = new Configuration();
        c.set(ProviderOptions.baseUrl(name), baseUrl);
        c.set(ProviderOptions.model(name), MODEL);
        c.set(ProviderOptions.apiKeyEnv(name), NO_KEY_ENV);
        c.set(ProviderOptions.requestTimeout(name), Duration.ofSeconds(5));
        c.set(ProviderOptions.retryInitialBackoff(name), Duration.ofMillis(50));
        c.set(ProviderOptions.retryMaxBackoff(name), Duration.ofMillis(200));
        c.set(AgentOptions.TIMEOUT, Duration.ofSeconds(10));
        return c;
    }

    private OpenAiProvider provider(String name, Configuration c) {
        ProviderStats.of(name).reset();
        OpenAiProvider p = new OpenAiProvider(ProviderSettings.from(c, name));
        providers.add(p);
        return p;
    }

    private static AgentResult await(CompletableFuture<AgentResult> f) throws Exception {
        return f.get(12, TimeUnit.SECONDS);
    }

    private static ProviderException failure(CompletableFuture<AgentResult> f) {
        Throwable t = catchThrowable(() -> f.get(12, TimeUnit.SECONDS));
        assertThat(t).isInstanceOf(ExecutionException.class);
        assertThat(t.getCause()).isInstanceOf(ProviderException.class);
        return (ProviderException) t.getCause();
    }

    private static long gapMs(RecordedRequest a, RecordedRequest b) {
        return Duration.between(a.receivedAt(), b.receivedAt()).toMillis();
    }

    /** Replies with the given replies first, then with the valid answers. */
    private static Responder script(Reply... replies) {
        AtomicInteger n = new AtomicInteger();
        return req -> {
            int i = n.getAndIncrement();
            return i < replies.length ? replies[i] : LoopbackLlmServer.schemaAnswers().respond(req);
        };
    }

    /** The valid answers, with a fixed usage. */
    private static Responder withUsage(long promptTokens, long completionTokens) {
        return req -> {
            Reply valid = LoopbackLlmServer.schemaAnswers().respond(req);
            String content =
                    Json.MAPPER.readTree(valid.body()).at("/choices/0/message/content").asText();
            return Reply.okText(content, promptTokens, completionTokens);
        };
    }

    /** The answer the valid-answers responder gives to a recorded request. */
    private static JsonNode answerContent(RecordedRequest req) throws Exception {
        Reply valid = LoopbackLlmServer.schemaAnswers().respond(req);
        return Json.MAPPER.readTree(
                Json.MAPPER.readTree(valid.body()).at("/choices/0/message/content").asText());
    }

    /** [prompt_tokens, completion_tokens] the valid-answers responder reports for a request. */
    private static JsonNode answerEnvelopeUsage(RecordedRequest req) throws Exception {
        JsonNode usage =
                Json.MAPPER
                        .readTree(LoopbackLlmServer.schemaAnswers().respond(req).body())
                        .get("usage");
        return Json.MAPPER
                .createArrayNode()
                .add(usage.get("prompt_tokens").asLong())
                .add(usage.get("completion_tokens").asLong());
    }

    private static JsonNode sentimentAnswer() {
        return Json.MAPPER
                .createObjectNode()
                .put("label", "neutral")
                .put("score", 0.0)
                .put("confidence", 0.6)
                .put("emotion", "calm")
                .put("reasoning", "No cues.");
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> entities(AgentResult r) {
        return (List<Map<String, Object>>) r.result().get("entities");
    }

    private static List<PiiEntity> sensitive(String text) {
        return PII.detect(text).stream().filter(e -> SENT_PII_TYPES.contains(e.type())).toList();
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket =
                new ServerSocket(0, 1, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
            return socket.getLocalPort();
        }
    }

    private static ConversationSnapshot next(AtomicInteger n) {
        int i = n.incrementAndGet();
        return snapshot("acme", "c-cb-" + i, "circuit message " + i);
    }

    /** A one-message conversation. */
    private static ConversationSnapshot snapshot(String tenant, String conversation, String text) {
        TranscriptEntry e =
                new TranscriptEntry(
                        conversation + "-m1",
                        "customer",
                        text,
                        Instant.parse("2024-05-01T10:00:00Z"));
        return new ConversationSnapshot(
                tenant,
                conversation,
                1,
                1,
                e,
                List.of(e),
                e.timestamp(),
                e.timestamp(),
                List.of("pii", "sentiment", "insights", "summary"),
                new SourceRef("support.chat.messages", 0, 1));
    }

    /** A snapshot of lines of the conversation file, oldest first; the last is the newest. */
    private static ConversationSnapshot snapshot(List<JsonNode> lines) {
        List<TranscriptEntry> entries = new ArrayList<>();
        Instant ts = Instant.parse("2020-04-01T00:00:00Z");
        for (JsonNode n : lines) {
            JsonNode t = n.get("timestamp");
            if (t != null && t.isTextual()) {
                ts = Instant.parse(t.asText());
            }
            entries.add(
                    new TranscriptEntry(
                            n.get("source_msg_id").asText(),
                            n.get("sender").asText(),
                            n.get("message").asText(),
                            ts));
        }
        JsonNode last = lines.get(lines.size() - 1);
        long version = last.get("turn_index").asLong() + 1;
        return new ConversationSnapshot(
                last.get("tenant_id").asText(),
                last.get("conversation_id").asText(),
                version,
                version,
                entries.get(entries.size() - 1),
                entries,
                entries.get(0).timestamp(),
                entries.get(entries.size() - 1).timestamp(),
                List.of("pii", "sentiment", "insights", "summary"),
                new SourceRef("support.chat.messages", 0, version));
    }

    private static List<JsonNode> conversationLines() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(conversationFile(), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                out.add(Json.MAPPER.readTree(line));
            }
        }
        return out;
    }

    /** {@code shared/data/conversations/ibm-twcc-dev.jsonl}, beside the repository. */
    private static Path conversationFile() {
        String relative = "shared/data/conversations/ibm-twcc-dev.jsonl";
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path candidate = d.resolve(relative);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        Path fallback = Path.of("/work").resolve(relative);
        if (Files.isRegularFile(fallback)) {
            return fallback;
        }
        throw new IllegalStateException(
                relative + " not found walking up from " + Path.of("").toAbsolutePath());
    }

    @Test
    @Timeout(15)
    void concurrentCallsAllDowngradeToJsonObjectWhenTheServerRejectsJsonSchema() throws Exception {
        try (LoopbackLlmServer server = LoopbackLlmServer.start()) {
            server.setRejectJsonSchema(true);
            String name = newName();
            OpenAiProvider p = provider(name, conf(name, server.baseUrl()));
            List<CompletableFuture<AgentResult>> calls = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                calls.add(p.analyze("sentiment", snapshot("acme", "c" + i, "hello number " + i)));
            }
            for (CompletableFuture<AgentResult> f : calls) {
                assertThat(await(f).status()).isEqualTo("ok");
            }
            List<RecordedRequest> requests = server.requests();
            assertThat(requests.get(requests.size() - 1).responseFormatType())
                    .isEqualTo("json_object");
            assertThat(
                            requests.stream()
                                    .filter(r -> "json_object".equals(r.responseFormatType()))
                                    .count())
                    .isEqualTo(10);
        }
    }

    @Test
    @Timeout(15)
    void aPromptLargerThanTheTokenBudgetIsAConfigurationErrorNotRetried() throws Exception {
        try (LoopbackLlmServer server = LoopbackLlmServer.start()) {
            String name = newName();
            Configuration c = conf(name, server.baseUrl());
            c.set(ProviderOptions.tokensPerMinute(name), 50L);
            OpenAiProvider p = provider(name, c);
            ProviderException e =
                    failure(p.analyze("summary", snapshot("acme", "c1", "my order never arrived")));
            assertThat(e.reason()).startsWith("configuration:");
            assertThat(server.requestCount()).isZero();
            assertThat(ProviderStats.of(name).retries.get()).isZero();
        }
    }
}
