package io.signalstream.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The package structure as rules, checked with ArchUnit on the production classes of every module
 * (udfs, jobs and the local runtime; tests excluded):
 *
 * <ul>
 *   <li>the {@code io.signalstream.*} packages form a DAG (no cycle between any two);
 *   <li>what runs on a Flink cluster never depends on the local runtime ({@code
 *       io.signalstream.local..}: in-process broker, demo, replay, bench, eval, loopback LLM);
 *   <li>the agent SPI ({@code io.signalstream.agents}) does not know its providers.
 * </ul>
 */
class PackageDependenciesTest {

    private static JavaClasses production;

    @BeforeAll
    static void importClasses() {
        production =
                new ClassFileImporter()
                        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                        .importPackages("io.signalstream");
    }

    @Test
    void importsEveryModule() {
        // A rule over too few classes would pass vacuously.
        assertThat(production.containPackage("io.signalstream.events")).isTrue();
        assertThat(production.containPackage("io.signalstream.jobs")).isTrue();
        assertThat(production.containPackage("io.signalstream.local")).isTrue();
        assertThat(production.containPackage("io.signalstream.llm")).isTrue();
        assertThat(production.containPackage("io.signalstream.api")).isTrue();
    }

    @Test
    void packagesFormADag() {
        slices().matching("io.signalstream.(**)")
                .namingSlices("$1")
                .should()
                .beFreeOfCycles()
                .check(production);
    }

    @Test
    void clusterCodeDoesNotDependOnTheLocalRuntime() {
        noClasses()
                .that()
                .resideOutsideOfPackage("io.signalstream.local..")
                .should()
                .dependOnClassesThat()
                .resideInAPackage("io.signalstream.local..")
                .because("the cluster jar holds the job and its runtime dependencies only")
                .check(production);
    }

    @Test
    void agentSpiDoesNotKnowItsProviders() {
        noClasses()
                .that()
                .resideInAPackage("io.signalstream.agents")
                .should()
                .dependOnClassesThat()
                .resideInAnyPackage("io.signalstream.llm..", "io.signalstream.functions..")
                .check(production);
    }
}
