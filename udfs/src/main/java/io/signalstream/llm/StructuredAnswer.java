package io.signalstream.llm;

import io.signalstream.agents.ProviderStats;
import io.signalstream.serde.Json;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Turns a chat completion into the agent's structured answer: strips Markdown code fences, parses
 * the content as JSON and validates it against the agent's schema ({@link AgentPrompt#validate}).
 * An answer that is not JSON or breaks the schema gets one repair request, if the deadline has not
 * passed: the model's answer and the list of problems are appended to the conversation and it is
 * asked again (counted in {@code ProviderStats.repairs}). A second bad answer ends the call.
 */
final class StructuredAnswer {

    private final ChatCompletionsClient client;
    private final ProviderStats stats;

    /**
     * @param client sends the requests
     * @param stats counts repair requests
     */
    StructuredAnswer(ChatCompletionsClient client, ProviderStats stats) {
        this.client = client;
        this.stats = stats;
    }

    /**
     * Asks the model for the call's answer.
     *
     * @return a future completed with an answer that satisfies the agent's schema; failed with
     *     {@link ChatCall.Failure} when the client gives up or the repaired answer is still bad
     */
    CompletableFuture<JsonNode> ask(ChatCall call) {
        CompletableFuture<JsonNode> answer = new CompletableFuture<>();
        round(call, false, answer);
        return answer;
    }

    private void round(ChatCall call, boolean repaired, CompletableFuture<JsonNode> answer) {
        client.complete(call)
                .whenComplete(
                        (content, error) -> {
                            if (error != null) {
                                answer.completeExceptionally(error);
                                return;
                            }
                            try {
                                check(call, content, repaired, answer);
                            } catch (RuntimeException e) {
                                answer.completeExceptionally(
                                        new ChatCall.Failure("unexpected error: " + e, false));
                            }
                        });
    }

    private void check(
            ChatCall call, String content, boolean repaired, CompletableFuture<JsonNode> answer) {
        List<String> problems;
        JsonNode parsed = null;
        try {
            parsed = Json.MAPPER.readTree(stripFences(content));
            problems = parsed == null ? List.of("empty answer") : call.prompt.validate(parsed);
        } catch (Exception e) {
            problems = List.of("answer is not JSON");
        }
        if (problems.isEmpty()) {
            answer.complete(parsed);
        } else if (!repaired && !call.pastDeadline()) {
            stats.repairs.incrementAndGet();
            call.messages.add(ChatCall.message("assistant", content));
            call.messages.add(
                    ChatCall.message(
                            "user",
                            "Your answer does not match the schema: "
                                    + String.join("; ", problems)
                                    + ". Reply again with only the corrected JSON object."));
            round(call, true, answer);
        } else {
            answer.completeExceptionally(
                    new ChatCall.Failure(
                            "answer does not match the schema: " + String.join("; ", problems),
                            true));
        }
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
}
