// Launcher starts DynamoDB Local bound to one host (the first argument; the
// rest are DynamoDB Local's own arguments). It is the launcher
// shared/store/dynamo/dynamotest uses, for localstack/emulators.sh; a test in
// infra/rie keeps the two the same.
import java.lang.reflect.Field;
import java.util.Arrays;

public class Launcher {
  public static void main(String[] args) throws Exception {
    String host = args[0];
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
    Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) rest);
    Field f = proxy.getClass().getDeclaredField("server");
    f.setAccessible(true);
    Object server = f.get(proxy);
    Object[] connectors = (Object[]) server.getClass().getMethod("getConnectors").invoke(server);
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connectors to bind");
    for (Object c : connectors) c.getClass().getMethod("setHost", String.class).invoke(c, host);
    proxy.getClass().getMethod("start").invoke(proxy);
    proxy.getClass().getMethod("join").invoke(proxy);
  }
}
