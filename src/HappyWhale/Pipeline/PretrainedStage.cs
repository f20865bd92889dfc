using System.Text.Json.Nodes;
using HappyWhale.Modeling;

namespace HappyWhale.Pipeline;

/// <summary>
/// pretrained: the ImageNet weights <c>model.pretrained: imagenet</c> asks for, converted from the NuGet
/// package's ONNX files (ResNet18.onnx and the mean image of ResNetPreprocess.onnx) into a .safetensors
/// state dict of the backbone. Keyed on the backbone and both files' SHA-256, so the conversion runs once
/// per package version; the first train phase takes its key as an input.
/// </summary>
public static class PretrainedStage
{
    public const int Version = 1;
    public const string WeightsFile = "weights.safetensors";

    /// <summary>model.backbone, as the value "backbone", and the package it converts; the files are fingerprints.</summary>
    public static readonly StageDeclaration Declaration = new(StageNames.Pretrained, Version, []) { ReadsAsValues = ["model.backbone"] };

    public static StageRequest Request(string backbone, string modelsFolder)
    {
        ImageNetPackage.Check(backbone, modelsFolder);
        var parameters = new JsonObject
        {
            ["backbone"] = backbone,
            ["package"] = $"{ImageNetPackage.PackageId} {ImageNetPackage.PackageVersion}",
        };
        var fingerprints = new Dictionary<string, string>
        {
            ["resnet18_onnx"] = FileHash.Sha256Hex(ImageNetPackage.ResNet18Onnx(modelsFolder)),
            ["preprocess_onnx"] = FileHash.Sha256Hex(ImageNetPackage.PreprocessOnnx(modelsFolder)),
        };
        return Declaration.Request(parameters, fingerprints: fingerprints);
    }

    public static JsonObject Compute(string backbone, string modelsFolder, string folder)
    {
        int tensors = CntkResNetImport.ConvertToFile(ImageNetPackage.ResNet18Onnx(modelsFolder), ImageNetPackage.PreprocessOnnx(modelsFolder),
            backbone, Path.Combine(folder, WeightsFile));
        return new JsonObject
        {
            ["backbone"] = backbone,
            ["tensors"] = tensors,
            ["source"] = $"{ImageNetPackage.PackageId} {ImageNetPackage.PackageVersion}: ResNet18Onnx/ResNet18.onnx + ResNetPrepOnnx/ResNetPreprocess.onnx",
        };
    }
}
