package io.signalstream.api;

import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With no Kafka to talk to, the service still starts and says so: alive ({@code /health} 200) but
 * not ready ({@code /ready} 503 naming Kafka), and no API call ends in a stack trace.
 */
class ApiServerWithoutKafkaTest {

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aliveButNotReadyWhenKafkaDoesNotAnswer() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        byte[] secret = "no-kafka-test-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);
        HttpClient http = HttpClient.newHttpClient();
        try (ApiServer api =
                ApiServer.start(
                        ApiOptions.defaults(
                                "127.0.0.1:" + closedPort, 0, JwtTokens.hs256(secret)))) {
            HttpResponse<String> health = get(http, api.url() + "/health");
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> ready = get(http, api.url() + "/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            JsonNode body = Json.MAPPER.readTree(ready.body());
            assertThat(body.path("status").asText()).isEqualTo("kafka_unreachable");
            assertThat(body.path("reason").asText()).contains("127.0.0.1:" + closedPort);
            HttpResponse<String> unknown = get(http, api.url() + "/no/such/thing");
            assertThat(unknown.statusCode()).isEqualTo(404);
            assertThat(Json.MAPPER.readTree(unknown.body()).path("error").asText())
                    .isEqualTo("not_found");
        }
    }

    /**
     * {@code POST /v1/feedback} checks everything before it talks to Kafka: 401 without a valid
     * token, 403 for a body naming another tenant, 400 with the rule's code for invalid feedback.
     */
    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void feedbackIsAuthenticatedAndValidatedBeforeKafka() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        byte[] secret = "no-kafka-test-secret-of-32-bytes-or-more".getBytes(StandardCharsets.UTF_8);
        String acme = JwtTokens.hs256Token(secret, "acme", Duration.ofHours(1));
        String valid =
                "{\"conversation_id\":\"c1\",\"version\":3,\"agent\":\"sentiment\","
                        + "\"field\":\"label\",\"expected\":\"negative\",\"user_id\":\"u1\"}";
        HttpClient http = HttpClient.newHttpClient();
        try (ApiServer api =
                ApiServer.start(
                        ApiOptions.defaults(
                                "127.0.0.1:" + closedPort, 0, JwtTokens.hs256(secret)))) {
            assertThat(postFeedback(http, api, null, valid).statusCode()).isEqualTo(401);
            assertThat(postFeedback(http, api, "not-a-jwt", valid).statusCode()).isEqualTo(401);

            HttpResponse<String> foreign =
                    postFeedback(http, api, acme, valid.replace("{", "{\"tenant_id\":\"globex\","));
            assertThat(foreign.statusCode()).isEqualTo(403);
            assertThat(Json.MAPPER.readTree(foreign.body()).path("error").asText())
                    .isEqualTo("forbidden");

            for (String[] bad :
                    new String[][] {
                        {"not json", "malformed_json"},
                        {valid.replace("\"version\":3", "\"version\":0"), "invalid_version"},
                        {valid.replace("sentiment", "horoscope"), "unknown_agent"},
                        {valid.replace(",\"user_id\":\"u1\"", ""), "missing_field"},
                        {valid.replace("\"negative\"", "[1]"), "invalid_expected"},
                        {valid.replace("\"label\"", "\"a..b\""), "invalid_field"}
                    }) {
                HttpResponse<String> r = postFeedback(http, api, acme, bad[0]);
                assertThat(r.statusCode()).as(bad[0]).isEqualTo(400);
                JsonNode body = Json.MAPPER.readTree(r.body());
                assertThat(body.path("error").asText()).as(bad[0]).isEqualTo(bad[1]);
                assertThat(body.path("reason").asText()).as(bad[0]).isNotBlank();
            }
        }
    }

    private static HttpResponse<String> postFeedback(
            HttpClient http, ApiServer api, String token, String body) throws Exception {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(URI.create(api.url() + "/v1/feedback"))
                        .timeout(Duration.ofSeconds(20))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
