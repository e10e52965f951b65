package io.signalstream.api;

import io.signalstream.config.JobOptions;
import io.signalstream.jobs.ConversationIntelligenceJob;
import io.signalstream.jobs.kafka.KafkaTopics;
import io.signalstream.local.ConversationReplayer;
import io.signalstream.local.EmbeddedKafkaBroker;
import io.signalstream.local.LocalFlinkConfig;
import io.signalstream.serde.Json;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The live dashboard in a real headless Chromium (Debian {@code chromium} + {@code
 * chromium-driver}, driven by Selenium), against the real API service, the real job on a
 * MiniCluster ({@code local} provider, checkpoints every second) and the in-process KRaft broker:
 * open the page with a token, post real customer messages through {@code POST /v1/messages}, and
 * see each conversation's row appear with its intelligence, then update in place (higher version,
 * moved to the top) when the next message is posted; the detail panel shows the conversation; a
 * second tenant's token sees none of it. Saves {@code target/dashboard.png}.
 *
 * <p>Without {@code /usr/bin/chromium} and {@code /usr/bin/chromedriver} the test fails ({@code
 * .ci/run} installs them).
 */
class DashboardBrowserITCase {

    /** The bound: a posted message's intelligence is on screen within 10 s. */
    private static final Duration VISIBLE_WITHIN = Duration.ofSeconds(10);

    /** Warm-up bound: the job's first output after start (sources, first checkpoint). */
    private static final Duration WARM_UP = Duration.ofSeconds(120);

    /** Conversations started before the measured one (warm-up, and a fuller picture). */
    private static final int WARM_UP_CONVERSATIONS = 7;

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @RegisterExtension
    static final MiniClusterExtension MINI_CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path tmp;

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** One message of the bundled data. */
    private record Turn(
            String tenant, String conversation, int turn, String sender, String message) {}

    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void rowsAppearAndUpdateLiveForTheTokensTenantOnly() throws Exception {
        assertThat(CHROMIUM)
                .as(
                        "headless Chromium is required: apt-get install -y --no-install-recommends"
                                + " chromium chromium-driver (.ci/run does it)")
                .isExecutable();
        assertThat(CHROMEDRIVER)
                .as(
                        "chromedriver is required: apt-get install -y --no-install-recommends"
                                + " chromium chromium-driver (.ci/run does it)")
                .isExecutable();

        // Real conversations: the tenant with the most conversations that start with a customer
        // message followed by at least one more message.
        Map<String, List<Turn>> conversations = conversations();
        Map<String, List<List<Turn>>> byTenant = new LinkedHashMap<>();
        for (List<Turn> c : conversations.values()) {
            if (c.size() >= 2 && c.get(0).sender().equals("customer")) {
                byTenant.computeIfAbsent(c.get(0).tenant(), t -> new ArrayList<>()).add(c);
            }
        }
        List<List<Turn>> mine =
                byTenant.values().stream().max(Comparator.comparingInt(List::size)).orElseThrow();
        assertThat(mine).hasSizeGreaterThanOrEqualTo(WARM_UP_CONVERSATIONS + 1);
        String tenantA = mine.get(0).get(0).tenant();
        String tenantB =
                byTenant.keySet().stream()
                        .filter(t -> !t.equals(tenantA))
                        .findFirst()
                        .orElseThrow();
        List<Turn> other = byTenant.get(tenantB).get(0);
        List<List<Turn>> warmUp = mine.subList(0, WARM_UP_CONVERSATIONS);
        List<Turn> measured = mine.get(WARM_UP_CONVERSATIONS);

        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String tokenA = JwtTokens.hs256Token(secret, tenantA, Duration.ofHours(1));
        String tokenB = JwtTokens.hs256Token(secret, tenantB, Duration.ofHours(1));

        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start(tmp.resolve("kafka"))) {
            Configuration conf =
                    LocalFlinkConfig.withLocalDefaults(
                            new Configuration(), tmp.resolve("flink"), 2);
            conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, Duration.ofSeconds(1));
            conf.set(JobOptions.BOOTSTRAP_SERVERS, broker.bootstrapServers());
            conf.set(JobOptions.GROUP_ID, "dashboard-itcase");
            KafkaTopics.create(
                    broker.bootstrapServers(),
                    new Properties(),
                    KafkaTopics.layout(conf, 2, (short) 1));
            JobClient job =
                    ConversationIntelligenceJob.kafka(conf, new Properties())
                            .executeAsync(
                                    StreamExecutionEnvironment.getExecutionEnvironment(conf),
                                    "dashboard-itcase");
            try (ApiServer api =
                    ApiServer.start(
                            ApiOptions.defaults(
                                    broker.bootstrapServers(), 0, JwtTokens.hs256(secret)))) {
                WebDriver driver = chrome();
                try {
                    run(api, driver, tenantA, tokenA, tokenB, warmUp, measured, other);
                } finally {
                    driver.quit();
                }
            } finally {
                job.cancel().get(60, TimeUnit.SECONDS);
            }
        }
    }

    private void run(
            ApiServer api,
            WebDriver driver,
            String tenantA,
            String tokenA,
            String tokenB,
            List<List<Turn>> warmUp,
            List<Turn> measured,
            List<Turn> other)
            throws Exception {
        String url = api.url();
        driver.get(url + "/?access_token=" + tokenA);
        awaitLive(driver, Duration.ofSeconds(30));
        // The token left the address bar (kept in sessionStorage) and names the tenant.
        assertThat(driver.getCurrentUrl()).doesNotContain("access_token");
        assertThat(driver.findElement(By.id("tenant")).getText()).isEqualTo(tenantA);

        // Warm-up: the first message of a few conversations; the job's first outputs after its
        // start include source assignment and the first checkpoints.
        for (List<Turn> c : warmUp) {
            post(url, tokenA, c.get(0));
        }
        for (List<Turn> c : warmUp) {
            awaitIntelligence(driver, c.get(0).conversation(), WARM_UP);
        }

        // Measured: a new conversation's first message, then its next message.
        Turn first = measured.get(0);
        long t0 = System.nanoTime();
        HttpResponse<String> accepted = post(url, tokenA, first);
        long ackMs = millisSince(t0);
        WebElement row = awaitIntelligence(driver, first.conversation(), VISIBLE_WITHIN);
        long visibleMs = millisSince(t0);
        long v1 = Long.parseLong(row.getAttribute("data-version"));
        assertThat(v1).isEqualTo(1);
        assertThat(field(row, "version").getText()).isEqualTo("1");
        assertThat(field(row, "last_updated").getAttribute("data-value")).isNotBlank();
        assertThat(field(row, "pii").getAttribute("data-value")).isIn("true", "false");
        assertThat(field(row, "escalation").getAttribute("data-value")).isIn("true", "false");
        assertThat(field(row, "intent").getAttribute("data-value")).isNotBlank();
        assertThat(firstRowId(driver)).isEqualTo(first.conversation());

        // Put another conversation on top, so that the update must move this row back up.
        post(url, tokenA, warmUp.get(0).get(1));
        awaitVersion(driver, warmUp.get(0).get(0).conversation(), 2, VISIBLE_WITHIN);
        assertThat(firstRowId(driver)).isEqualTo(warmUp.get(0).get(0).conversation());

        Turn second = measured.get(1);
        long t1 = System.nanoTime();
        post(url, tokenA, second);
        WebElement updated = awaitVersion(driver, first.conversation(), 2, VISIBLE_WITHIN);
        long updateMs = millisSince(t1);
        assertThat(updated.getAttribute("data-conversation-id")).isEqualTo(first.conversation());
        assertThat(field(updated, "version").getText()).isEqualTo("2");
        assertThat(firstRowId(driver)).isEqualTo(first.conversation());
        // Updated in place: one row per conversation.
        assertThat(rowsOf(driver, first.conversation())).hasSize(1);
        assertThat(driver.findElements(By.cssSelector("#rows tr[data-conversation-id]")))
                .hasSize(warmUp.size() + 1);

        // The detail panel: the conversation's summary, agent statuses and latest messages.
        updated.click();
        waitFor(driver, Duration.ofSeconds(10))
                .until(
                        d ->
                                first.conversation()
                                        .equals(
                                                d.findElement(By.id("detail"))
                                                        .getAttribute("data-conversation-id")));
        WebElement detail = driver.findElement(By.id("detail"));
        assertThat(detail.findElement(By.tagName("h2")).getText()).isEqualTo(first.conversation());
        assertThat(detail.findElements(By.cssSelector("dl.agents dt"))).isNotEmpty();
        assertThat(detail.findElement(By.cssSelector("p.summary")).getText()).isNotBlank();
        assertThat(detail.findElements(By.cssSelector("ul.messages li"))).isNotEmpty();
        assertThat(Json.MAPPER.readTree(accepted.body()).path("message_id").asText()).isNotBlank();
        Thread.sleep(1000); // let the selection highlight settle for the picture
        Path picture = Path.of("target", "dashboard.png");
        Files.createDirectories(picture.getParent());
        Files.write(picture, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));

        System.out.printf(
                "%n== Dashboard (headless Chromium) ==%n"
                        + "  POST /v1/messages acknowledged (202) after   %6d ms%n"
                        + "  new conversation's row with intelligence     %6d ms after the POST%n"
                        + "  next message's update (version 2, on top)    %6d ms after the POST%n"
                        + "  screenshot: %s%n%n",
                ackMs, visibleMs, updateMs, picture.toAbsolutePath());

        // Data is shown as text, never as markup: a message carrying HTML that would run script.
        List<Turn> target = warmUp.get(2);
        String html =
                "<img src=x onerror=\"document.body.setAttribute('data-xss','1')\">"
                        + " my order still has not arrived, please check";
        post(
                url,
                tokenA,
                new Turn(
                        target.get(0).tenant(),
                        target.get(0).conversation(),
                        99,
                        "customer",
                        html));
        awaitVersion(driver, target.get(0).conversation(), 2, VISIBLE_WITHIN).click();
        String targetId = target.get(0).conversation();
        waitFor(driver, Duration.ofSeconds(10))
                .withMessage("the message's text in the detail panel")
                .until(
                        d ->
                                targetId.equals(
                                                d.findElement(By.id("detail"))
                                                        .getAttribute("data-conversation-id"))
                                        && d
                                                .findElements(
                                                        By.cssSelector(
                                                                "#detail ul.messages li .text"))
                                                .stream()
                                                .anyMatch(e -> e.getText().contains("<img src=x")));
        assertThat(driver.findElements(By.cssSelector("#detail img, #rows img"))).isEmpty();
        assertThat(driver.findElement(By.tagName("body")).getAttribute("data-xss")).isNull();

        // Tenant B, same browser tab: its own conversation shows, none of tenant A's.
        driver.get(url + "/?access_token=" + tokenB);
        awaitLive(driver, Duration.ofSeconds(30));
        assertThat(driver.findElement(By.id("tenant")).getText()).isNotEqualTo(tenantA);
        assertThat(driver.findElements(By.cssSelector("#rows tr[data-conversation-id]")))
                .as("tenant B's dashboard right after loading")
                .isEmpty();
        post(url, tokenB, other.get(0));
        awaitIntelligence(driver, other.get(0).conversation(), VISIBLE_WITHIN);
        // A new version of one of A's conversations while B watches: visible to A, not to B.
        post(url, tokenA, measured.size() > 2 ? measured.get(2) : warmUp.get(1).get(1));
        String aConversation =
                measured.size() > 2 ? first.conversation() : warmUp.get(1).get(0).conversation();
        long expectVersion = measured.size() > 2 ? 3 : 2;
        awaitApiVersion(url, tokenA, aConversation, expectVersion, VISIBLE_WITHIN);
        Thread.sleep(500); // the same update's frame to B's stream, if it leaked, would be here
        List<String> shown = new ArrayList<>();
        for (WebElement r : driver.findElements(By.cssSelector("#rows tr[data-conversation-id]"))) {
            shown.add(r.getAttribute("data-conversation-id"));
        }
        assertThat(shown).containsExactly(other.get(0).conversation());
        // And the API agrees: A's conversation does not exist for B.
        HttpResponse<String> foreign =
                http.send(
                        HttpRequest.newBuilder(
                                        URI.create(
                                                url
                                                        + "/v1/conversations/"
                                                        + aConversation
                                                        + "/insights"))
                                .header("Authorization", "Bearer " + tokenB)
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(foreign.statusCode()).isEqualTo(404);
    }

    // ---- browser -------------------------------------------------------------------------------

    private static WebDriver chrome() throws Exception {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1440,1080",
                "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service =
                new ChromeDriverService.Builder()
                        .usingDriverExecutable(new File(CHROMEDRIVER.toString()))
                        .usingAnyFreePort()
                        .build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(10));
        return driver;
    }

    /**
     * A wait that retries when an element it looked at was replaced meanwhile (the page re-renders
     * a row's cells and the detail panel on every update).
     */
    private static WebDriverWait waitFor(WebDriver driver, Duration timeout) {
        WebDriverWait wait = new WebDriverWait(driver, timeout);
        wait.ignoring(StaleElementReferenceException.class);
        return wait;
    }

    /** Waits until the list is loaded and the WebSocket is open. */
    private static void awaitLive(WebDriver driver, Duration timeout) {
        waitFor(driver, timeout)
                .withMessage("the dashboard did not load its list and open its stream")
                .until(
                        d ->
                                "true"
                                                .equals(
                                                        d.findElement(By.tagName("body"))
                                                                .getAttribute("data-loaded"))
                                        && "open"
                                                .equals(
                                                        d.findElement(By.id("connection"))
                                                                .getAttribute("data-state")));
    }

    /** The conversation's row once its sentiment and urgency are filled in. */
    private static WebElement awaitIntelligence(
            WebDriver driver, String conversation, Duration timeout) {
        return waitFor(driver, timeout)
                .withMessage("no row with sentiment and urgency for " + conversation)
                .until(
                        rowWhere(
                                conversation,
                                r ->
                                        !field(r, "sentiment").getAttribute("data-value").isEmpty()
                                                && !field(r, "urgency")
                                                        .getAttribute("data-value")
                                                        .isEmpty()));
    }

    /** The conversation's row once it shows at least {@code version}. */
    private static WebElement awaitVersion(
            WebDriver driver, String conversation, long version, Duration timeout) {
        return waitFor(driver, timeout)
                .withMessage("row of " + conversation + " never reached version " + version)
                .until(
                        rowWhere(
                                conversation,
                                r -> Long.parseLong(r.getAttribute("data-version")) >= version));
    }

    private static Function<WebDriver, WebElement> rowWhere(
            String conversation, Function<WebElement, Boolean> ok) {
        return d -> {
            List<WebElement> rows = rowsOf(d, conversation);
            if (rows.isEmpty()) {
                return null;
            }
            WebElement r = rows.get(0);
            return r.isDisplayed() && ok.apply(r) ? r : null;
        };
    }

    private static List<WebElement> rowsOf(WebDriver driver, String conversation) {
        return driver.findElements(
                By.cssSelector("#rows tr[data-conversation-id=\"" + conversation + "\"]"));
    }

    private static WebElement field(WebElement row, String name) {
        return row.findElement(By.cssSelector("td[data-field=\"" + name + "\"]"));
    }

    private static String firstRowId(WebDriver driver) {
        return driver.findElement(By.cssSelector("#rows tr[data-conversation-id]"))
                .getAttribute("data-conversation-id");
    }

    // ---- API -----------------------------------------------------------------------------------

    private HttpResponse<String> post(String url, String token, Turn t) throws Exception {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("conversation_id", t.conversation());
        body.put("sender", t.sender());
        body.put("message", t.message());
        body.put("channel", "chat");
        HttpResponse<String> r =
                http.send(
                        HttpRequest.newBuilder(URI.create(url + "/v1/messages"))
                                .header("Authorization", "Bearer " + token)
                                .header("Content-Type", "application/json")
                                .timeout(Duration.ofSeconds(20))
                                .POST(HttpRequest.BodyPublishers.ofString(Json.toString(body)))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("POST /v1/messages: %s", r.body()).isEqualTo(202);
        assertThat(Json.MAPPER.readTree(r.body()).path("conversation_id").asText())
                .isEqualTo(t.conversation());
        return r;
    }

    private void awaitApiVersion(
            String url, String token, String conversation, long version, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r =
                    http.send(
                            HttpRequest.newBuilder(
                                            URI.create(
                                                    url
                                                            + "/v1/conversations/"
                                                            + conversation
                                                            + "/insights"))
                                    .header("Authorization", "Bearer " + token)
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            last = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200
                    && Json.MAPPER.readTree(r.body()).path("version").asLong() >= version) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(
                conversation + " did not reach version " + version + " via the API: " + last);
    }

    // ---- data ----------------------------------------------------------------------------------

    /** The bundled conversations, each in turn order. */
    private static Map<String, List<Turn>> conversations() throws Exception {
        Map<String, List<Turn>> byConversation = new LinkedHashMap<>();
        for (String line : ConversationReplayer.readLines(null)) {
            JsonNode n = Json.MAPPER.readTree(line);
            Turn t =
                    new Turn(
                            n.get("tenant_id").asText(),
                            n.get("conversation_id").asText(),
                            n.get("turn_index").asInt(),
                            n.get("sender").asText(),
                            n.get("message").asText());
            byConversation
                    .computeIfAbsent(t.tenant() + ":" + t.conversation(), k -> new ArrayList<>())
                    .add(t);
        }
        for (List<Turn> c : byConversation.values()) {
            c.sort(Comparator.comparingInt(Turn::turn));
        }
        return byConversation;
    }

    private static long millisSince(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }
}
