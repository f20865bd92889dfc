using HappyWhale.Experiments;
using HappyWhale.Pipeline;
using HappyWhale.Tests.Experiments;

namespace HappyWhale.Tests.Modeling;

public class PretrainedTrainKeyTests
{
    [Fact]
    public void Pretrained_file_content_enters_the_first_train_key_only()
    {
        using var tmp = new TempFolder();
        var repo = ExperimentFiles.RepoExperimentsDir;
        File.WriteAllText(tmp["w.safetensors"], "version one");
        var plain = ExperimentLoader.Load(repo, "defaults", []);
        var withWeights = ExperimentLoader.Load(repo, "defaults", ["model.pretrained=w.safetensors", "train.phases=[{epochs: 1}, {epochs: 2}]"]);

        var none = TrainStage.Request(plain, 0, 64, "prep", null, tmp.Path);
        Assert.Empty(none.Fingerprints);
        var first = TrainStage.Request(withWeights, 0, 64, "prep", null, tmp.Path);
        Assert.Equal(64, first.Fingerprints["pretrained"].Length);
        var later = TrainStage.Request(withWeights, 1, 64, "prep", "previous-key", tmp.Path);
        Assert.Empty(later.Fingerprints);                       // inherited through the previous phase's key

        File.WriteAllText(tmp["w.safetensors"], "version two");
        var changed = TrainStage.Request(withWeights, 0, 64, "prep", null, tmp.Path);
        Assert.NotEqual(first.Fingerprints["pretrained"], changed.Fingerprints["pretrained"]);

        File.Delete(tmp["w.safetensors"]);
        var e = Assert.Throws<UserException>(() => TrainStage.Request(withWeights, 0, 64, "prep", null, tmp.Path));
        Assert.Contains("w.safetensors", e.Message);
    }
}
