// Regenerates murmur2_java.txt: javac -cp kafka-clients.jar:slf4j-api.jar Murmur2Vectors.java && java -cp ...:. Murmur2Vectors
import org.apache.kafka.common.utils.Utils;
import java.nio.charset.StandardCharsets;
import java.util.Random;
public class Murmur2Vectors {
  public static void main(String[] a) {
    String[] fixed = {"21","foobar","a-little-bit-long-string","a-little-bit-longer-string","lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8","abc","", "0", "1", "12345", "999999", "1000000", "-42", "zażółć gęślą jaźń", "🐶doge"};
    for (String s : fixed) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      System.out.println(hex(b) + " " + Utils.murmur2(b) + " " + Utils.toPositive(Utils.murmur2(b)) % 12);
    }
    Random r = new Random(20240601L);
    for (int i = 0; i < 200; i++) {
      byte[] b = new byte[r.nextInt(41)];
      r.nextBytes(b);
      System.out.println(hex(b) + " " + Utils.murmur2(b) + " " + Utils.toPositive(Utils.murmur2(b)) % 12);
    }
  }
  static String hex(byte[] b) { StringBuilder sb = new StringBuilder("x"); for (byte x : b) sb.append(String.format("%02x", x)); return sb.toString(); }
}
