// Creates a topic on the test broker and waits until every partition has a
// leader. Run by `tests/kafka/broker create-topic` with Java's single-file
// source launcher and the fetched Kafka jars on the class path:
//
//   java -cp "$LIBDIR/*" CreateTopic.java BOOTSTRAP NAME PARTITIONS [KEY=VALUE ...]
//
// Exit 0 when created (or already present with the same partition count).
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

public class CreateTopic {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: CreateTopic BOOTSTRAP NAME PARTITIONS [KEY=VALUE ...]");
            System.exit(2);
        }
        String bootstrap = args[0];
        String name = args[1];
        int partitions = Integer.parseInt(args[2]);
        Map<String, String> configs = new HashMap<>();
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) {
                System.err.println("CreateTopic: bad config '" + args[i] + "' (want KEY=VALUE)");
                System.exit(2);
            }
            configs.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }

        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        long deadline = System.currentTimeMillis() + 30_000;
        try (Admin admin = Admin.create(p)) {
            NewTopic t = new NewTopic(name, partitions, (short) 1).configs(configs);
            try {
                admin.createTopics(List.of(t)).all().get();
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    System.err.println("CreateTopic: " + e.getCause());
                    System.exit(1);
                }
            }
            // Poll until the broker's metadata shows every partition led.
            while (true) {
                try {
                    TopicDescription d = admin.describeTopics(List.of(name))
                            .allTopicNames().get().get(name);
                    boolean led = d.partitions().size() == partitions;
                    for (TopicPartitionInfo pi : d.partitions()) {
                        led &= pi.leader() != null && !pi.leader().isEmpty();
                    }
                    if (led) {
                        return;
                    }
                    if (d.partitions().size() != partitions && !d.partitions().isEmpty()) {
                        System.err.println("CreateTopic: " + name + " exists with "
                                + d.partitions().size() + " partitions, not " + partitions);
                        System.exit(1);
                    }
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
                if (System.currentTimeMillis() > deadline) {
                    System.err.println("CreateTopic: " + name + " has no leaders after 30 s");
                    System.exit(1);
                }
                Thread.sleep(50);
            }
        }
    }
}
