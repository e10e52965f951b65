package io.signalstream.local.cli;

import io.signalstream.api.ServeCommand;
import io.signalstream.cli.RunCommand;
import io.signalstream.cli.SignalStreamCli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The local build's command line: {@code java -jar jobs/local/target/signalstream.jar <command>}.
 *
 * <ul>
 *   <li>{@code demo}: the whole system on this machine (in-process Kafka, MiniCluster) on real
 *       conversations
 *   <li>{@code run}: the job against an existing Kafka, on a local MiniCluster
 *   <li>{@code sql}: Flink SQL over the topics (bounded by default), printed as a table, CSV or
 *       JSON; without {@code --bootstrap-servers} over an in-process broker filled with the demo
 *       data
 *   <li>{@code eval}: scores an agent provider on labelled data
 *   <li>{@code bench}: end-to-end throughput and latency against a loopback LLM
 *   <li>{@code serve}: the API service and live dashboard against an existing Kafka
 * </ul>
 *
 * <p>{@code run} and {@code sql} are the cluster's commands ({@link SignalStreamCli}).
 */
@Command(
        name = "signalstream",
        mixinStandardHelpOptions = true,
        version = "SignalStream 0.1.0",
        description = "Real-time conversation intelligence on Apache Flink.",
        subcommands = {
            DemoCommand.class,
            RunCommand.class,
            LocalSqlCommand.class,
            EvalCommand.class,
            BenchCommand.class,
            ServeCommand.class
        })
public final class LocalCli implements Runnable {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /** Entry point of {@code java -jar}; exits with the command's exit code. */
    public static void main(String[] args) {
        SignalStreamCli.execute(new CommandLine(new LocalCli()), args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
