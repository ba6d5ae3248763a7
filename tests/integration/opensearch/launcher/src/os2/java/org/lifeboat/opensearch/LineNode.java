/* The OpenSearch 2.x node: the protected constructor takes the plugin classes. */
package org.lifeboat.opensearch;

import java.util.Collection;

import org.opensearch.env.Environment;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

final class LineNode extends Node {

    private LineNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        super(environment, plugins, true);
    }

    static Node create(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        return new LineNode(environment, plugins);
    }
}
