/*
 * A real OpenSearch node started in-process for lifeboat.backup's integration tests.
 *
 *   java -Xmx512m -Dopensearch.path.conf=HOME/config -cp CLASSPATH org.lifeboat.opensearch.TestNode HOME
 *
 * HOME/config/opensearch.yml holds the node settings (written by tests/integration/opensearch/osnode.py).
 * HOME/config/secure.properties, when present, holds secure settings (the S3 client keys): they are handed to
 * the node in memory, as a keystore would be, so no -Dopensearch.allow_insecure_settings is needed.
 * The plugins are those of PLUGINS found on the classpath: Netty4 (HTTP + transport) always, repository-s3 when
 * its jar is there. LineNode (src/os2, src/os3) is the Node subclass of each OpenSearch line. The node runs until the process gets SIGTERM (the shutdown hook closes it cleanly).
 * No bootstrap checks, no security manager, no plugin descriptors: this is a test node, nothing more.
 */
package org.lifeboat.opensearch;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.SecureSettings;
import org.opensearch.common.settings.Settings;
import org.opensearch.core.common.settings.SecureString;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

public final class TestNode {

    private static final String[] PLUGINS = {
        "org.opensearch.transport.Netty4Plugin",          // 2.x
        "org.opensearch.transport.Netty4ModulePlugin",    // 3.x
        "org.opensearch.repositories.s3.S3RepositoryPlugin",
    };

    private TestNode() {
    }

    /** Secure settings held in memory (what the keystore would give the node). */
    static final class MemorySecureSettings implements SecureSettings {
        private final Properties values;

        MemorySecureSettings(Properties values) {
            this.values = values;
        }

        @Override
        public boolean isLoaded() {
            return true;
        }

        @Override
        public Set<String> getSettingNames() {
            return Collections.unmodifiableSet(values.stringPropertyNames());
        }

        @Override
        public SecureString getString(String setting) {
            String value = values.getProperty(setting);
            return value == null ? null : new SecureString(value.toCharArray());
        }

        @Override
        public InputStream getFile(String setting) {
            String value = values.getProperty(setting);
            return value == null ? null : new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public byte[] getSHA256Digest(String setting) {
            try {
                return MessageDigest.getInstance("SHA-256").digest(values.getProperty(setting, "").getBytes(StandardCharsets.UTF_8));
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Class<? extends Plugin>> plugins() {
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String name : PLUGINS) {
            try {
                plugins.add((Class<? extends Plugin>) Class.forName(name));
            } catch (ClassNotFoundException e) {
                // not on this line's classpath
            }
        }
        return plugins;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: TestNode PATH_HOME");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = home.resolve("config");
        Settings.Builder builder = Settings.builder().put("path.home", home.toString());
        Path secure = config.resolve("secure.properties");
        if (Files.exists(secure)) {
            Properties values = new Properties();
            try (Reader reader = Files.newBufferedReader(secure, StandardCharsets.UTF_8)) {
                values.load(reader);
            }
            builder.setSecureSettings(new MemorySecureSettings(values));
        }
        Environment environment = InternalSettingsPreparer.prepareEnvironment(builder.build(), Collections.emptyMap(), config,
            () -> "lifeboat-test");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configureWithoutConfig(environment.settings());
        List<Class<? extends Plugin>> plugins = plugins();
        Node node = LineNode.create(environment, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "lifeboat-test-node-shutdown"));
        node.start();
        StringBuilder names = new StringBuilder();
        for (Class<? extends Plugin> plugin : plugins) {
            names.append(names.length() == 0 ? "" : ",").append(plugin.getSimpleName());
        }
        System.out.println("lifeboat-test-node started: " + names);
        System.out.flush();
        stopped.await();
    }
}
