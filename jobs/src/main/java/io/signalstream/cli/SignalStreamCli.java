package io.signalstream.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The command line: {@code java -jar signalstream.jar <command>}.
 *
 * <ul>
 *   <li>{@code demo}: the whole system on this machine (in-process Kafka, MiniCluster) on real
 *       conversations
 *   <li>{@code run}: the job against an existing Kafka (and Flink, when submitted to a cluster)
 * </ul>
 */
@Command(
        name = "signalstream",
        mixinStandardHelpOptions = true,
        version = "SignalStream 0.1.0",
        description = "Real-time conversation intelligence on Apache Flink.",
        subcommands = {DemoCommand.class, RunCommand.class})
public final class SignalStreamCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Entry point; exits with the command's exit code. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new SignalStreamCli()).execute(args));
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
