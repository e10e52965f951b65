package io.signalstream.llm;

import io.signalstream.agents.AgentResults;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.agents.local.PiiEntity;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.events.TranscriptEntry;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An agent as data: a versioned prompt template ({@code prompts/<agent>.<version>.txt}, with a
 * {@code ### system} and a {@code ### user} section) and the JSON schema its answer must meet
 * ({@code schemas/<agent>.schema.json}, draft-07).
 *
 * <p>Template variables: {@code {{tenant_id}}}, {@code {{last_message}}} (the newest message) and
 * {@code {{transcript}}} (the snapshot's window, one {@code sender: text} line each). With
 * redaction on, every PII span the local recognizers find in the rendered user prompt is replaced
 * by a typed placeholder ({@code <EMAIL_ADDRESS_1>}) before the prompt is used.
 */
public final class AgentPrompt {

    private static final Map<String, AgentPrompt> LOADED = new ConcurrentHashMap<>();
    private static final PiiDetector PII = new PiiDetector();

    private final String agent;
    private final String version;
    private final String system;
    private final String user;
    private final JsonNode schema;
    private final JsonSchema validator;
    private final String hash;

    private AgentPrompt(String agent, String version, String template, JsonNode schema) {
        int s = template.indexOf("### system");
        int u = template.indexOf("### user");
        if (s < 0 || u < s) {
            throw new IllegalStateException(
                    "prompt template of "
                            + agent
                            + " needs a '### system' then a '### user' section");
        }
        this.agent = agent;
        this.version = version;
        this.system = template.substring(s + "### system".length(), u).strip();
        this.user = template.substring(u + "### user".length()).strip();
        this.schema = schema;
        this.validator =
                JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema);
        this.hash = AgentResults.hash(template + "\n" + schema);
    }

    /**
     * The prompt of an agent, loaded once per JVM.
     *
     * @param agent agent name
     * @param version template version, e.g. {@code v1}
     * @throws IllegalArgumentException if the template or schema resource is missing
     */
    public static AgentPrompt of(String agent, String version) {
        return LOADED.computeIfAbsent(agent + "." + version, k -> load(agent, version));
    }

    private static AgentPrompt load(String agent, String version) {
        String template = resource("/prompts/" + agent + "." + version + ".txt");
        try {
            JsonNode schema = Json.MAPPER.readTree(resource("/schemas/" + agent + ".schema.json"));
            return new AgentPrompt(agent, version, template, schema);
        } catch (IOException e) {
            throw new IllegalArgumentException("schema of agent " + agent + " is not JSON", e);
        }
    }

    private static String resource(String path) {
        try (InputStream in = AgentPrompt.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalArgumentException("missing resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + path, e);
        }
    }

    /** Agent name. */
    public String agent() {
        return agent;
    }

    /** {@code <version>-<hash of template and schema>}, written as {@code prompt_version}. */
    public String promptVersion() {
        return version + "-" + hash.substring(0, 8);
    }

    /** The JSON schema of the answer. */
    public JsonNode schema() {
        return schema;
    }

    /**
     * Renders the chat messages for a snapshot.
     *
     * @param snapshot the conversation
     * @param redact whether to replace PII with typed placeholders
     * @return the system and user messages
     */
    public Rendered render(ConversationSnapshot snapshot, boolean redact) {
        StringBuilder transcript = new StringBuilder();
        for (TranscriptEntry e : snapshot.recentMessages()) {
            transcript.append(e.sender()).append(": ").append(e.message().strip()).append('\n');
        }
        String text =
                user.replace("{{tenant_id}}", snapshot.tenantId())
                        .replace("{{last_message}}", snapshot.lastMessage().message().strip())
                        .replace("{{transcript}}", transcript.toString().strip());
        int redactions = 0;
        if (redact) {
            List<PiiEntity> found = PII.detect(text);
            redactions = found.size();
            text = PII.redact(text, found);
        }
        return new Rendered(system, text, redactions);
    }

    /**
     * Checks an answer against the schema.
     *
     * @return the violations, empty when the answer is valid
     */
    public List<String> validate(JsonNode answer) {
        Set<ValidationMessage> errors = validator.validate(answer);
        List<String> out = new ArrayList<>();
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
