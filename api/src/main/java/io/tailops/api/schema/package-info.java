/**
 * Schema markers of the CRD model that the fabric8 CRD generator has no annotation for: Kubernetes list and map
 * semantics ({@code x-kubernetes-list-type}), string formats, and the label-value constraint. They are read at build
 * time by the CRD generator of this module (see {@code api/README.md}) and have no effect at run time.
 */
package io.tailops.api.schema;
