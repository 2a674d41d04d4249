using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// Classifies a 28x28 Fashion-MNIST image with the int8 model that Dsg.Build produced at build time.
// Usage: SampleApp [--embedded] [image.pgm]
//   --embedded  read the model from the assembly's resources (build with -p:SampleEmbedModel=true)
//               instead of the file next to the app.
const string ModelName = "resnet_fmnist.int8.onnx";
string[] classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

bool embedded = args.Contains("--embedded");
string imagePath = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal))
    ?? Path.Combine(AppContext.BaseDirectory, "sample.pgm");

byte[]? model = embedded ? ReadResource(ModelName) : ReadFile(Path.Combine(AppContext.BaseDirectory, ModelName));
if (model is null)
{
    Console.Error.WriteLine(embedded
        ? $"The assembly has no resource '{ModelName}'. Build with -p:SampleEmbedModel=true."
        : $"'{ModelName}' is not next to the app. Build with Dsg.Build and SampleEmbedModel=false.");
    return 1;
}

float[] pixels = ReadPgm(imagePath);
using var session = new InferenceSession(model);
var input = new DenseTensor<float>(pixels, [1, 1, 28, 28]);
using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
float[] logits = results[0].AsEnumerable<float>().ToArray();
int best = Array.IndexOf(logits, logits.Max());
Console.WriteLine($"{classes[best]} ({ModelName} from {(embedded ? "the embedded resource" : "the output folder")})");
return 0;

static byte[]? ReadFile(string path) => File.Exists(path) ? File.ReadAllBytes(path) : null;

static byte[]? ReadResource(string name)
{
    using Stream? stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(name);
    if (stream is null)
    {
        return null;
    }

    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    return memory.ToArray();
}

// Binary PGM (P5), 28x28, 8-bit; normalised like the model's training data: (x/255 - 0.2860) / 0.3530.
static float[] ReadPgm(string path)
{
    byte[] bytes = File.ReadAllBytes(path);
    int pos = 0;
    string[] header = new string[4];
    for (int field = 0; field < 4; field++)
    {
        while (char.IsWhiteSpace((char)bytes[pos]) || bytes[pos] == '#')
        {
            if (bytes[pos] == '#')
            {
                while (bytes[pos] != '\n')
                {
                    pos++;
                }
            }

            pos++;
        }

        int start = pos;
        while (!char.IsWhiteSpace((char)bytes[pos]))
        {
            pos++;
        }

        header[field] = System.Text.Encoding.ASCII.GetString(bytes, start, pos - start);
    }

    pos++;
    if (header[0] != "P5" || header[1] != "28" || header[2] != "28" || header[3] != "255" || bytes.Length - pos != 784)
    {
        throw new InvalidDataException($"{path} is not a 28x28 8-bit binary PGM.");
    }

    return bytes.Skip(pos).Select(b => (b / 255f - 0.2860f) / 0.3530f).ToArray();
}
