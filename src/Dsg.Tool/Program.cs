using Dsg.Core;
using Dsg.Core.Onnx;

namespace Dsg.Tool;

internal static class Program
{
    private static int Main(string[] args)
    {
        try
        {
            var model = OnnxModel.Load(args[0]);
            Console.WriteLine($"{model.DisplayName}: opset {model.Opset}, {model.Graph.Node.Count} nodes");
            using var t = TorchSharp.torch.ones(2, 2, requires_grad: true);
            using var y = (t * t).sum();
            y.backward();
            Console.WriteLine(t.grad!.ToString(TorchSharp.TensorStringStyle.Julia));
            return 0;
        }
        catch (DsgException e)
        {
            Console.Error.WriteLine(e.ToString());
            return 1;
        }
    }
}
