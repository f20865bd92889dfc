using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// The ImageNet weights that <c>model.pretrained: imagenet</c> names: ML.NET's ResNet-18 from the NuGet
/// package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (MIT), which the build restores and copies
/// next to the program (DnnImageModels/), so nothing is downloaded at run time.
/// </summary>
public static class ImageNetPackage
{
    /// <summary>The value of <c>model.pretrained</c> that asks for these weights.</summary>
    public const string PretrainedName = "imagenet";
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18", PackageVersion = "0.23.1";
    public const string ModelsFolderName = "DnnImageModels";

    /// <summary>The backbones these weights fit.</summary>
    public static readonly IReadOnlyList<string> Backbones = [CntkResNet.ImageNet18];

    public static bool IsRequestedBy(string? pretrained) => string.Equals(pretrained?.Trim(), PretrainedName, StringComparison.Ordinal);

    /// <summary>The package's model folder as the build copied it next to the running program.</summary>
    public static string ModelsFolder => Path.Combine(AppContext.BaseDirectory, ModelsFolderName);

    public static string ResNet18Onnx(string modelsFolder) => Path.Combine(modelsFolder, "ResNet18Onnx", "ResNet18.onnx");
    public static string PreprocessOnnx(string modelsFolder) => Path.Combine(modelsFolder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    /// <summary>Stops with what to do when the weights cannot be used: another backbone, or a build without the package files.</summary>
    public static void Check(string backbone, string modelsFolder)
    {
        if (!Backbones.Contains(backbone))
            throw new UserException($"model.pretrained: {PretrainedName} is ResNet-18 weights with CNTK's layout; they fit model.backbone " +
                $"{string.Join(" or ", Backbones)}, not '{backbone}'.");
        foreach (var file in new[] { ResNet18Onnx(modelsFolder), PreprocessOnnx(modelsFolder) })
            if (!File.Exists(file))
                throw new UserException($"model.pretrained: {PretrainedName}: {file} is missing. It comes with the NuGet package {PackageId} " +
                    $"{PackageVersion}, which the build restores and copies there: run `dotnet build HappyWhale.sln -c Release` (or ./build.sh).");
    }
}

/// <summary>
/// Converts ResNet18.onnx (+ the mean image of ResNetPreprocess.onnx) into a <see cref="CntkResNet"/> state
/// dict by walking the graph from its input: stem Conv-BN-Relu-MaxPool, then basic blocks (a block whose
/// input feeds a 1x1 Conv opens a new stage), then the AveragePool. Each Conv and BatchNormalization met
/// names its initializers (conv weight; BN scale, bias, mean, var), and its kernel, strides, pads and
/// epsilon are checked against what the module computes. Anything the walk does not expect, an
/// initializer it never reaches, or a tensor that does not fit the module stops the conversion with the
/// full list.
/// </summary>
public static class CntkResNetImport
{
    public const string MeanBuffer = "input_mean";

    /// <summary>Reads both files, checks them against <paramref name="target"/>, loads them into it and returns the state dict (caller disposes).</summary>
    public static Dictionary<string, Tensor> Convert(string resnetOnnx, string preprocessOnnx, CntkResNet target)
    {
        var problems = new List<string>();
        var weights = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var eps = new Dictionary<string, float>(StringComparer.Ordinal);
        WalkResNet(OnnxModel.Load(resnetOnnx), target, weights, eps, problems);
        var mean = WalkPreprocess(OnnxModel.Load(preprocessOnnx), problems);
        if (mean is not null) weights[MeanBuffer] = mean;

        foreach (var (bn, e) in eps)
            if (Math.Abs(e - CntkResNet.BatchNormEps) > 1e-9) problems.Add($"{bn}: the graph's BatchNormalization epsilon is {e}, the module's is {CntkResNet.BatchNormEps}");
        if (problems.Count > 0)
            throw new UserException($"{resnetOnnx} does not convert to {target.Variant} ({problems.Count} problems):\n  " + string.Join("\n  ", problems));

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in weights) state[name] = tensor(t.Data, t.Dims);
        // The graph keeps no count of BatchNorm updates; torchvision's files carry 0 after conversion too.
        foreach (var name in target.state_dict().Keys.Where(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)))
            state[name] = tensor(0L);
        try
        {
            WeightImport.Apply(target, state, $"{Path.GetFileName(resnetOnnx)} + {Path.GetFileName(preprocessOnnx)}", strict: true);
        }
        catch
        {
            foreach (var t in state.Values) t.Dispose();
            throw;
        }
        return state;
    }

    /// <summary>Converts and writes the state dict as a .safetensors file that <c>model.pretrained</c> loads by name.</summary>
    public static int ConvertToFile(string resnetOnnx, string preprocessOnnx, string backbone, string outputFile)
    {
        using var target = CntkResNet.Create(backbone);
        var state = Convert(resnetOnnx, preprocessOnnx, target);
        try
        {
            Safetensors.SaveStateDict(outputFile, state);
            return state.Count;
        }
        finally { foreach (var t in state.Values) t.Dispose(); }
    }

    sealed class Graph(OnnxModel model, List<string> problems)
    {
        readonly ILookup<string, OnnxNode> consumers = model.Nodes
            .SelectMany(n => n.Inputs.Select(i => (i, n))).ToLookup(p => p.i, p => p.n, StringComparer.Ordinal);
        public readonly HashSet<OnnxNode> Visited = [];
        public readonly HashSet<string> UsedInitializers = new(StringComparer.Ordinal);
        public OnnxModel Model => model;

        public IReadOnlyList<OnnxNode> Consumers(string value) => consumers[value].ToList();

        /// <summary>The one node reading <paramref name="value"/>, which must be a <paramref name="op"/>; null (and a problem) otherwise.</summary>
        public OnnxNode? Only(string value, string op, string where)
        {
            var list = Consumers(value);
            if (list.Count != 1 || list[0].OpType != op)
            {
                problems.Add($"{where}: expected one {op} reading {value}, found [{string.Join(", ", list.Select(n => $"{n.OpType} {n.Name}"))}]");
                return null;
            }
            Visited.Add(list[0]);
            return list[0];
        }

        public OnnxTensor? Initializer(OnnxNode node, int input, string where)
        {
            if (node.Inputs.Count > input && model.Initializers.TryGetValue(node.Inputs[input], out var t))
            {
                UsedInitializers.Add(t.Name);
                return t;
            }
            problems.Add($"{where}: input {input} of {node.OpType} {node.Name} is not an initializer");
            return null;
        }
    }

    static void WalkResNet(OnnxModel model, CntkResNet target, Dictionary<string, OnnxTensor> weights, Dictionary<string, float> eps, List<string> problems)
    {
        var g = new Graph(model, problems);
        var input = model.Inputs.Where(i => !model.Initializers.ContainsKey(i)).ToList();
        if (input.Count != 1) { problems.Add($"the graph has {input.Count} data inputs, expected 1"); return; }

        long side = CntkResNet.MeanImageSize;   // the input side of the operation being read
        string? Conv(OnnxNode? conv, string name, long kernel, long stride)
        {
            if (conv is null) return null;
            var w = g.Initializer(conv, 1, name);
            if (w is not null) weights[name + ".weight"] = w;
            if (conv.Inputs.Count > 2) problems.Add($"{name}: {conv.Name} has a bias; the module's convolutions have none");
            Check(name, "kernel_shape", conv.Ints("kernel_shape", []), [kernel, kernel]);
            Check(name, "strides", conv.Ints("strides", [1, 1]), [stride, stride]);
            Check(name, "pads", conv.Ints("pads", [0, 0, 0, 0]), target.OnnxPads(side, kernel, stride));
            Check(name, "dilations", conv.Ints("dilations", [1, 1]), [1, 1]);
            return conv.Outputs[0];
        }
        string? Bn(string? value, string name)
        {
            if (value is null) return null;
            var bn = g.Only(value, "BatchNormalization", name);
            if (bn is null) return null;
            string[] slots = ["weight", "bias", "running_mean", "running_var"];
            for (int k = 0; k < slots.Length; k++)
                if (g.Initializer(bn, k + 1, name) is { } t) weights[$"{name}.{slots[k]}"] = t;
            eps[name] = bn.Float("epsilon", 1e-5f);
            return bn.Outputs[0];
        }
        string? Relu(string? value, string where) => value is null ? null : g.Only(value, "Relu", where)?.Outputs[0];
        void Check(string where, string attribute, long[] found, long[] expected)
        {
            if (!found.SequenceEqual(expected))
                problems.Add($"{where}: {attribute} [{string.Join(", ", found)}] in the graph, the module computes [{string.Join(", ", expected)}]");
        }

        var h = Relu(Bn(Conv(g.Only(input[0], "Conv", "conv1"), "conv1", 7, 2), "bn1"), "stem");
        side = (side + 1) / 2;
        var pool = h is null ? null : g.Only(h, "MaxPool", "stem");
        if (pool is null) return;
        Check("maxpool", "kernel_shape", pool.Ints("kernel_shape", []), [3, 3]);
        Check("maxpool", "strides", pool.Ints("strides", [1, 1]), [2, 2]);
        Check("maxpool", "pads", pool.Ints("pads", [0, 0, 0, 0]), target.OnnxPads(side, 3, 2));
        side = (side + 1) / 2;
        string? v = pool.Outputs[0];

        int stage = 1, block = 0;
        while (v is not null)
        {
            var readers = g.Consumers(v);
            if (readers is [{ OpType: "AveragePool" } avg]) { g.Visited.Add(avg); break; }
            var projection = readers.FirstOrDefault(n => n.OpType == "Conv" && n.Ints("kernel_shape", []).SequenceEqual([1L, 1L]));
            var main = readers.Where(n => n.OpType == "Conv" && n != projection).ToList();
            if (main.Count != 1)
            {
                problems.Add($"after {v}: expected a block's 3x3 Conv, found [{string.Join(", ", readers.Select(n => $"{n.OpType} {n.Name}"))}]");
                return;
            }
            if (projection is not null) { stage++; block = 0; }
            string prefix = $"layer{stage}.{block}";
            int stride = projection is null ? 1 : 2;
            g.Visited.Add(main[0]);
            var branch = Bn(Conv(main[0], prefix + ".conv1", 3, stride), prefix + ".bn1");
            branch = Relu(branch, prefix);
            branch = branch is null ? null : Bn(Conv(g.Only(branch, "Conv", prefix + ".conv2"), prefix + ".conv2", 3, 1), prefix + ".bn2");
            string? identity = v;
            if (projection is not null)
            {
                g.Visited.Add(projection);
                identity = Bn(Conv(projection, prefix + ".downsample.0", 1, 2), prefix + ".downsample.1");
            }
            side = (side + stride - 1) / stride;
            if (branch is null || identity is null) return;
            var add = g.Only(branch, "Add", prefix);
            if (add is null) return;
            if (!add.Inputs.Contains(identity))
                problems.Add($"{prefix}: Add {add.Name} adds [{string.Join(", ", add.Inputs)}], expected the shortcut {identity}");
            v = Relu(add.Outputs[0], prefix);
            block++;
        }
        foreach (var n in model.Nodes.Where(n => !g.Visited.Contains(n)))
            problems.Add($"node {n.OpType} {n.Name} is not part of the layout the walk expects");
        foreach (var name in model.Initializers.Keys.Where(k => !g.UsedInitializers.Contains(k)).OrderBy(k => k, StringComparer.Ordinal))
            problems.Add($"initializer {name} was not reached by the walk");
    }

    /// <summary>ResNetPreprocess.onnx: Split(RGB) -> Concat(B, G, R) -> Sub(mean image). Returns the mean image.</summary>
    static OnnxTensor? WalkPreprocess(OnnxModel model, List<string> problems)
    {
        var g = new Graph(model, problems);
        var input = model.Inputs.Where(i => !model.Initializers.ContainsKey(i)).ToList();
        if (input.Count != 1) { problems.Add($"the preprocessing graph has {input.Count} data inputs, expected 1"); return null; }
        var split = g.Only(input[0], "Split", "preprocess");
        if (split is null) return null;
        if (split.Outputs.Count != 3) { problems.Add($"preprocess: Split {split.Name} has {split.Outputs.Count} outputs, expected 3 (R, G, B)"); return null; }
        var concat = g.Only(split.Outputs[0], "Concat", "preprocess");
        if (concat is null) return null;
        if (!concat.Inputs.SequenceEqual([split.Outputs[2], split.Outputs[1], split.Outputs[0]]))
            problems.Add($"preprocess: Concat {concat.Name} joins [{string.Join(", ", concat.Inputs)}], expected B, G, R = [{split.Outputs[2]}, {split.Outputs[1]}, {split.Outputs[0]}]");
        var sub = g.Only(concat.Outputs[0], "Sub", "preprocess");
        if (sub is null) return null;
        var mean = g.Initializer(sub, 1, "preprocess");
        if (mean is not null && !mean.Dims.SequenceEqual([1L, 3, CntkResNet.MeanImageSize, CntkResNet.MeanImageSize]))
            problems.Add($"preprocess: mean image {mean.Name} has shape [{string.Join(", ", mean.Dims)}], expected [1, 3, 224, 224]");
        return mean is null ? null : mean with { Name = MeanBuffer };
    }
}
