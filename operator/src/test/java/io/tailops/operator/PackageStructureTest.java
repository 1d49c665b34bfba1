package io.tailops.operator;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The operator's packages form no cycle, and the reconcile logic does not know the wiring: {@code runtime} (and
 * {@code Main}) build and start everything; the kinds, the pipeline and the proxy builders never reach back into them.
 */
@AnalyzeClasses(packages = "io.tailops.operator", importOptions = ImportOption.DoNotIncludeTests.class)
class PackageStructureTest {

  @ArchTest
  static final ArchRule noPackageCycles = slices().matching("io.tailops.operator.(*)..").should().beFreeOfCycles();

  @ArchTest
  static final ArchRule reconcileLogicDoesNotDependOnTheWiring = noClasses()
      .that().resideInAnyPackage("io.tailops.operator.pipeline..", "io.tailops.operator.reconcile..",
          "io.tailops.operator.proxy..", "io.tailops.operator.service..", "io.tailops.operator.ingress..",
          "io.tailops.operator.proxyclass..", "io.tailops.operator.k8s..", "io.tailops.operator.status..")
      .should().dependOnClassesThat().resideInAnyPackage("io.tailops.operator.runtime..", "io.tailops.operator");

  @ArchTest
  static final ArchRule proxyBuildersDoNotDependOnThePipelineOrTheKinds = noClasses()
      .that().resideInAnyPackage("io.tailops.operator.proxy..")
      .should().dependOnClassesThat().resideInAnyPackage("io.tailops.operator.pipeline..",
          "io.tailops.operator.service..", "io.tailops.operator.ingress..");
}
