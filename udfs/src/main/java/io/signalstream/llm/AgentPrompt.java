package io.signalstream.llm;

import io.signalstream.agents.AgentContext;
import io.signalstream.agents.AgentResults;
import io.signalstream.agents.AgentSpec;
import io.signalstream.agents.AgentTrigger;
import io.signalstream.agents.CallContext;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.agents.local.PiiNameFinder;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An agent as data: a versioned prompt template (a {@code ### system} and a {@code ### user}
 * section), the JSON schema its answer must meet (draft-07), and the context it sees ({@link
 * AgentContext}). The built-in agents' files are bundled ({@code prompts/<agent>.v2.txt}, {@code
 * schemas/<agent>.schema.json}); custom agents name theirs in the configuration.
 *
 * <p>Template variables: {@code {{tenant_id}}}, {@code {{last_message}}} (the newest message),
 * {@code {{transcript}}} (the agent's context: one {@code sender: text} line per message) and
 * {@code {{previous_summary}}} (rolling-summary context: the previous answer's summary, or {@code
 * (none)}). With redaction on, every PII span the local recognizers find in the rendered user
 * prompt is replaced by a typed placeholder ({@code <EMAIL_ADDRESS_1>}, {@code <PERSON_1>}) before
 * the prompt is used: the validated recognizers' spans ({@link PiiDetector}) and the person names
 * the learned name finder reports in the messages ({@link #personNames}), wherever they occur.
 *
 * <p>{@link #combined} builds one request for several agents: their {@code ### system} sections
 * become numbered tasks under one preamble, their contexts one transcript (the longest of them: all
 * are suffixes of the snapshot's window), and their schemas one object schema with a property per
 * agent.
 */
public final class AgentPrompt {

    private static final Map<String, AgentPrompt> LOADED = new ConcurrentHashMap<>();
    // The validated recognizers over the whole rendered prompt; person names per message (below).
    private static final PiiDetector PII = new PiiDetector("US", false);

    /** Entity type of the learned recognizer that prompts are redacted of. */
    static final String PERSON = "PERSON";

    private static final Pattern LABEL = Pattern.compile("\\.(v\\d+[a-z0-9]*)\\.[a-z]+$");

    /** Preamble of a combined request. */
    static final String COMBINED_PREAMBLE =
            "Analyse this support chat; reply with one JSON object, a key per task."
                    + " Placeholders like <EMAIL_ADDRESS_1> are redacted data.";

    private final String agent;
    private final String version;
    private final String system;
    private final String user;
    private final JsonNode schema;
    private final JsonSchema validator;
    private final String hash;
    private final AgentContext context;
    private final int windowTurns;
    private final List<AgentPrompt> parts;
    private final int weight;

    /** The system message of this agent alone ({@link #render}), built once. */
    private final String singleSystem;

    private AgentPrompt(
            String agent,
            String version,
            String template,
            JsonNode schema,
            AgentContext context,
            int windowTurns) {
        int s = template.indexOf("### system");
        int u = template.indexOf("### user");
        if (s < 0 || u < s) {
            throw new IllegalArgumentException(
                    "prompt template of agent "
                            + agent
                            + " needs a '### system' then a '### user' section");
        }
        if (!schema.isObject()) {
            throw new IllegalArgumentException("schema of agent " + agent + " is not an object");
        }
        this.agent = agent;
        this.version = version;
        this.system = template.substring(s + "### system".length(), u).strip();
        this.user = template.substring(u + "### user".length()).strip();
        this.schema = schema;
        this.validator =
                JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema);
        this.hash = AgentResults.hash(template + "\n" + schema);
        this.context = context;
        this.windowTurns = windowTurns;
        this.parts = List.of();
        this.weight = system.length() + schema.toString().length();
        this.singleSystem =
                "You are the SignalStream "
                        + agent
                        + " agent, helping a support team. Reply with JSON only, matching the"
                        + " schema. Placeholders like <EMAIL_ADDRESS_1> stand for redacted"
                        + " personal data.\n"
                        + system;
    }

    private AgentPrompt(List<AgentPrompt> parts) {
        StringBuilder sys = new StringBuilder(COMBINED_PREAMBLE);
        ObjectNode combined = Json.MAPPER.createObjectNode();
        combined.put("type", "object");
        combined.put("additionalProperties", false);
        ArrayNode required = combined.putArray("required");
        ObjectNode props = combined.putObject("properties");
        StringBuilder hashes = new StringBuilder();
        for (AgentPrompt p : parts) {
            sys.append("\nTask ").append(p.agent).append(": ").append(p.system);
            required.add(p.agent);
            props.set(p.agent, p.schema);
            hashes.append(p.hash);
        }
        this.agent = "agents";
        this.version = "combined";
        this.system = sys.toString();
        this.user = "";
        this.schema = combined;
        this.validator = null; // each part is validated against its own agent's schema
        this.hash = AgentResults.hash(hashes.toString());
        this.context = AgentContext.WINDOW;
        this.windowTurns = 1;
        this.parts = List.copyOf(parts);
        this.weight = system.length() + schema.toString().length();
        this.singleSystem = system;
    }

    /** Location of the bundled prompt template of a built-in agent. */
    public static String bundledPrompt(String agent) {
        return "classpath:prompts/" + agent + "." + AgentSpec.DEFAULT_PROMPT_LABEL + ".txt";
    }

    /** Location of the bundled schema of a built-in agent. */
    public static String bundledSchema(String agent) {
        return "classpath:schemas/" + agent + ".schema.json";
    }

    /** The version label in a template's file name ({@code churn_risk.v3.txt} → {@code v3}). */
    public static String label(String location) {
        Matcher m = LABEL.matcher(location);
        return m.find() ? m.group(1) : "v1";
    }

    /**
     * Reads a prompt or schema: {@code classpath:<resource>}, {@code file:<path>} or a plain path.
     *
     * @param location where it is
     * @param option the option that named it, for the error message
     * @throws IllegalArgumentException if it cannot be read
     */
    public static String read(String location, String option) {
        String loc = location.trim();
        if (loc.startsWith("classpath:")) {
            String path = loc.substring("classpath:".length());
            try (InputStream in =
                    AgentPrompt.class.getResourceAsStream(
                            path.startsWith("/") ? path : "/" + path)) {
                if (in == null) {
                    throw new IllegalArgumentException(
                            option + ": no resource " + path + " on the classpath");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException(option + ": cannot read " + loc, e);
            }
        }
        Path path = Path.of(loc.startsWith("file:") ? loc.substring("file:".length()) : loc);
        try {
            return Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    option + ": cannot read " + path.toAbsolutePath() + " (" + e + ")", e);
        }
    }

    /**
     * The prompt of an agent, parsed once per JVM.
     *
     * @throws IllegalArgumentException if the template lacks its sections or the schema is not a
     *     JSON object
     */
    public static AgentPrompt of(AgentSpec spec) {
        // A spec without texts names the bundled files: keyed by name, read on the first use only.
        String key =
                spec.name()
                        + '\u0000'
                        + spec.promptLabel()
                        + '\u0000'
                        + spec.context()
                        + '\u0000'
                        + spec.windowTurns()
                        + '\u0000'
                        + (spec.promptTemplate() != null ? spec.promptTemplate() : "<bundled>")
                        + '\u0000'
                        + (spec.schema() != null ? spec.schema() : "<bundled>");
        return LOADED.computeIfAbsent(
                key,
                k -> {
                    String template =
                            spec.promptTemplate() != null
                                    ? spec.promptTemplate()
                                    : read(bundledPrompt(spec.name()), "prompt of " + spec.name());
                    String schemaText =
                            spec.schema() != null
                                    ? spec.schema()
                                    : read(bundledSchema(spec.name()), "schema of " + spec.name());
                    JsonNode schema;
                    try {
                        schema = Json.MAPPER.readTree(schemaText);
                    } catch (IOException e) {
                        throw new IllegalArgumentException(
                                "schema of agent " + spec.name() + " is not JSON: " + e, e);
                    }
                    return new AgentPrompt(
                            spec.name(),
                            spec.promptLabel(),
                            template,
                            schema,
                            spec.context(),
                            spec.windowTurns());
                });
    }

    /** The bundled prompt of a built-in agent with its default context. */
    public static AgentPrompt of(String agent) {
        return of(
                new AgentSpec(
                        agent, AgentTrigger.parse("every-message", 1, Duration.ZERO), "x", null));
    }

    /** One request for several agents (at least two), in the given order. */
    static AgentPrompt combined(List<AgentPrompt> parts) {
        if (parts.size() < 2) {
            throw new IllegalArgumentException("a combined prompt needs at least two agents");
        }
        return new AgentPrompt(parts);
    }

    /** Agent name ({@code agents} for a combined prompt). */
    public String agent() {
        return agent;
    }

    /** The agents of a combined prompt, empty otherwise. */
    List<AgentPrompt> parts() {
        return parts;
    }

    /** {@code <version>-<hash of template and schema>}, written as {@code prompt_version}. */
    public String promptVersion() {
        return version + "-" + hash.substring(0, 8);
    }

    /** The JSON schema of the answer. */
    public JsonNode schema() {
        return schema;
    }

    /** The {@code ### system} section: the agent's instructions. */
    String instructions() {
        return system;
    }

    /** Chars of instructions and schema, the agent's share of a combined request. */
    int weight() {
        return weight;
    }

    /**
     * The messages of the snapshot's window this agent sees, oldest first.
     *
     * @param prior for a rolling-summary agent: its previous answer, or null
     */
    List<TranscriptEntry> contextTurns(ConversationSnapshot s, CallContext.Prior prior) {
        List<TranscriptEntry> all = s.recentMessages();
        if (all.isEmpty()) {
            return List.of(s.lastMessage());
        }
        int n =
                switch (context) {
                    case LATEST_MESSAGE -> 1;
                    case WINDOW -> windowTurns;
                    case ROLLING_SUMMARY ->
                            prior == null || prior.version() >= s.version()
                                    ? all.size()
                                    : (int) Math.min(all.size(), s.version() - prior.version());
                };
        n = Math.max(1, Math.min(n, all.size()));
        return all.subList(all.size() - n, all.size());
    }

    /** The previous answer a rolling-summary agent builds on, or null. */
    CallContext.Prior prior(CallContext ctx, ConversationSnapshot s) {
        if (context != AgentContext.ROLLING_SUMMARY || ctx == null) {
            return null;
        }
        CallContext.Prior p = ctx.prior(agent);
        return p != null && p.version() < s.version() ? p : null;
    }

    /**
     * Appends what this agent's answer depends on, as text: the key of its cached answers (hashed
     * with the provider, model and prompt version).
     *
     * @return {@code b}
     */
    StringBuilder appendContextKey(StringBuilder b, ConversationSnapshot s, CallContext ctx) {
        CallContext.Prior prior = prior(ctx, s);
        b.append(s.tenantId()).append('\n');
        if (prior != null) {
            b.append(prior.text()).append('\n');
        }
        appendTurns(b, contextTurns(s, prior));
        return b;
    }

    /**
     * Renders the chat messages of this agent alone.
     *
     * @param snapshot the conversation
     * @param ctx previous answers (rolling-summary context), may be {@link CallContext#NONE}
     * @param redact whether to replace PII with typed placeholders
     * @return the system and user messages
     */
    public Rendered render(ConversationSnapshot snapshot, CallContext ctx, boolean redact) {
        CallContext.Prior prior = prior(ctx, snapshot);
        StringBuilder transcript = new StringBuilder();
        appendTurns(transcript, contextTurns(snapshot, prior));
        String text =
                user.replace("{{tenant_id}}", snapshot.tenantId())
                        .replace("{{last_message}}", snapshot.lastMessage().message().strip())
                        .replace("{{transcript}}", transcript.toString().strip())
                        .replace("{{previous_summary}}", prior == null ? "(none)" : prior.text());
        return redacted(singleSystem, text, redact, snapshot);
    }

    /** Renders the agent alone with no previous answers. */
    public Rendered render(ConversationSnapshot snapshot, boolean redact) {
        return render(snapshot, CallContext.NONE, redact);
    }

    /**
     * Renders a combined request: the union of the parts' contexts (the previous summaries of
     * rolling-summary parts, then the longest transcript suffix any part needs).
     */
    Rendered renderCombined(ConversationSnapshot s, CallContext ctx, boolean redact) {
        StringBuilder text = new StringBuilder("Company: ").append(s.tenantId()).append('\n');
        List<TranscriptEntry> longest = List.of();
        for (AgentPrompt p : parts) {
            CallContext.Prior prior = p.prior(ctx, s);
            if (prior != null) {
                text.append("Previous ")
                        .append(p.agent)
                        .append(": ")
                        .append(prior.text())
                        .append('\n');
            }
            List<TranscriptEntry> turns = p.contextTurns(s, prior);
            if (turns.size() > longest.size()) {
                longest = turns;
            }
        }
        text.append("Chat (last line: the latest message):\n");
        appendTurns(text, longest);
        return redacted(system, text.toString().strip(), redact, s);
    }

    private static void appendTurns(StringBuilder b, List<TranscriptEntry> turns) {
        for (TranscriptEntry e : turns) {
            b.append(e.sender()).append(": ").append(e.message().strip()).append('\n');
        }
    }

    /**
     * The prompt with PII replaced: the validated recognizers' spans in {@code text}, and every
     * occurrence of a person name the name finder reports in any message of the snapshot's window
     * (not only those this agent sees: a name found in one message is hidden in all).
     */
    private static Rendered redacted(
            String system, String text, boolean redact, ConversationSnapshot s) {
        int redactions = 0;
        if (redact) {
            List<PiiEntity> found = new ArrayList<>(PII.detect(text));
            Map<String, Double> names = new HashMap<>();
            List<TranscriptEntry> window =
                    s.recentMessages().isEmpty() ? List.of(s.lastMessage()) : s.recentMessages();
            for (TranscriptEntry m : window) {
                personNames(m.message()).forEach((k, v) -> names.merge(k, v, Math::max));
            }
            addPersonNames(text, names, found);
            redactions = found.size();
            text = PII.redact(text, found);
        }
        return new Rendered(system, text, redactions);
    }

    /**
     * The {@value #PERSON} names the learned name finder ({@link PiiNameFinder#shared()}, with its
     * calibrated per-type floor) reports in one message, each with its confidence; a name of
     * several words also gives each capitalised word of three letters or more ("Lilian Surubaru" →
     * "Lilian", "Surubaru"), so a first name alone elsewhere in the prompt is replaced too. Cached
     * per message text. Only person names: places ({@code GPE}, precision 0.88 held out) carry
     * meaning for the answer ("my flight to Italy") and are rarely personal on their own.
     *
     * @param message a message's text
     * @return name → confidence in [0, 1], empty when there is none
     */
    static Map<String, Double> personNames(String message) {
        return names(PiiNameFinder.shared().findCached(message).reported());
    }

    /**
     * The {@value #PERSON} findings among {@code found} as name → confidence, plus each part of a
     * name of several words that has three letters or more and could continue a name ({@link
     * PiiNameFinder#continuesName}: "Will Smith" gives "Smith", not "Will").
     */
    static Map<String, Double> names(List<PiiEntity> found) {
        Map<String, Double> out = new HashMap<>();
        for (PiiEntity e : found) {
            if (!PERSON.equals(e.type())) {
                continue;
            }
            out.merge(e.text(), e.score(), Math::max);
            String[] words = e.text().split("\\s+");
            for (int i = 0; words.length > 1 && i < words.length; i++) {
                String w = words[i];
                if (w.length() >= 3 && PiiNameFinder.shared().continuesName(w)) {
                    out.merge(w, e.score(), Math::max);
                }
            }
        }
        return out;
    }

    /**
     * Adds a {@value #PERSON} finding for every whole-word occurrence in {@code text} of each of
     * {@code names} (longest first, case-sensitive: "LILIAN" is not "Lilian"), where it overlaps
     * nothing in {@code found}. The names come from the messages one by one (a message may span
     * several lines of the prompt, and a name the finder saw in one message is replaced wherever it
     * occurs, e.g. "Hi Lilian" in a reply).
     *
     * @param text a rendered prompt
     * @param names name → confidence ({@link #personNames})
     * @param found the findings so far; receives the names
     */
    static void addPersonNames(String text, Map<String, Double> names, List<PiiEntity> found) {
        List<String> byLength = new ArrayList<>(names.keySet());
        byLength.sort(Comparator.comparingInt(String::length).reversed());
        for (String name : byLength) {
            int from = 0;
            int at;
            while ((at = text.indexOf(name, from)) >= 0) {
                int end = at + name.length();
                from = end;
                if ((at > 0 && Character.isLetterOrDigit(text.charAt(at - 1)))
                        || (end < text.length() && Character.isLetterOrDigit(text.charAt(end)))) {
                    continue;
                }
                // With the surname after it if that overlaps nothing found so far (the surname
                // may be a finding of its own), else the name alone.
                int longer = PiiNameFinder.shared().extendNameEnd(text, end);
                PiiEntity e =
                        new PiiEntity(
                                PERSON, at, longer, names.get(name), text.substring(at, longer));
                if (longer > end && found.stream().anyMatch(e::overlaps)) {
                    e = new PiiEntity(PERSON, at, end, names.get(name), name);
                }
                if (found.stream().noneMatch(e::overlaps)) {
                    found.add(e);
                }
            }
        }
    }

    /**
     * Checks an answer against the schema (a combined prompt checks only that every part is an
     * object; each part is checked against its agent's schema by the caller).
     *
     * @return the violations, empty when the answer is valid
     */
    public List<String> validate(JsonNode answer) {
        List<String> out = new ArrayList<>();
        if (validator == null) {
            for (AgentPrompt p : parts) {
                if (!answer.path(p.agent).isObject()) {
                    out.add("$." + p.agent + ": object expected");
                }
            }
            return out;
        }
        Set<ValidationMessage> errors = validator.validate(answer);
        for (ValidationMessage m : errors) {
            out.add(m.getMessage());
        }
        return out;
    }

    /**
     * A rendered prompt.
     *
     * @param system the system message
     * @param user the user message (redacted when asked)
     * @param redactions PII spans replaced
     */
    public record Rendered(String system, String user, int redactions) {

        /** Rough token estimate (4 characters a token), for the budget. */
        public long estimatedTokens() {
            return (system.length() + user.length()) / 4 + 16;
        }
    }
}
