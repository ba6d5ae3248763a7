/* The OpenSearch 3.x node: the protected constructor takes PluginInfo objects (classpath plugins). */
package org.lifeboat.opensearch;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

import org.opensearch.Version;
import org.opensearch.env.Environment;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.PluginInfo;

final class LineNode extends Node {

    private LineNode(Environment environment, Collection<PluginInfo> plugins) {
        super(environment, plugins, true);
    }

    static Node create(Environment environment, Collection<Class<? extends Plugin>> plugins) {
        List<PluginInfo> infos = new ArrayList<>();
        for (Class<? extends Plugin> plugin : plugins) {
            infos.add(new PluginInfo(plugin.getName(), "classpath plugin", "NA", Version.CURRENT, "21", plugin.getName(),
                Collections.emptyList(), false));
        }
        return new LineNode(environment, infos);
    }
}
