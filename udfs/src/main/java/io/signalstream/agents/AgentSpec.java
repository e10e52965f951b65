package io.signalstream.agents;

import java.io.Serializable;

/**
 * One agent as configured: its name, trigger and provider.
 *
 * @param name {@code pii | sentiment | insights | summary}
 * @param trigger when it runs
 * @param provider provider name: {@code local}, or an OpenAI-compatible provider configured under
 *     {@code signalstream.providers.<name>}
 * @param fallbackProvider provider that answers when {@code provider} cannot (default {@code
 *     local}); ignored when {@code provider} is {@code local}
 */
public record AgentSpec(String name, AgentTrigger trigger, String provider, String fallbackProvider)
        implements Serializable {}
