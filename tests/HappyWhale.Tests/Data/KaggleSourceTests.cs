using HappyWhale.Data;

namespace HappyWhale.Tests.Data;

public class KaggleSourceTests
{
    [Fact]
    public void Reads_train_and_optional_test_labels()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.Combine("train.csv"), "image,species,individual_id\r\na.jpg,beluga,id1\r\nb.jpg,kiler_whale,id2\r\n");
        Directory.CreateDirectory(dir.Combine("test_images"));
        File.WriteAllBytes(dir.Combine("test_images", "z.jpg"), [1]);
        File.WriteAllBytes(dir.Combine("test_images", "y.png"), [1]);
        File.WriteAllBytes(dir.Combine("test_images", "notes.txt"), [1]);
        var source = new KaggleSource(dir.Path);

        Assert.Equal([new Sample("a.jpg", "beluga", "id1"), new Sample("b.jpg", "kiler_whale", "id2")], source.ReadTrain());
        Assert.Equal(["y.png", "z.jpg"], source.ListTestImages());
        Assert.Null(source.ReadTestLabels());
    }

    [Fact]
    public void Bad_header_names_file_and_line()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.Combine("train.csv"), "image,species,id\na.jpg,beluga,id1\n");
        var e = Assert.Throws<InvalidDataException>(() => new KaggleSource(dir.Path).ReadTrain());
        Assert.Contains("train.csv:1:", e.Message);
    }

    [Fact]
    public void Bad_row_names_file_and_line()
    {
        using var dir = new TempFolder();
        File.WriteAllText(dir.Combine("train.csv"), "image,species,individual_id\na.jpg,beluga,id1\nb.jpg,beluga\n");
        var e = Assert.Throws<InvalidDataException>(() => new KaggleSource(dir.Path).ReadTrain());
        Assert.Contains("train.csv:3:", e.Message);

        File.WriteAllText(dir.Combine("train.csv"), "image,species,individual_id\na.jpg,beluga,id1\na.jpg,beluga,id2\n");
        e = Assert.Throws<InvalidDataException>(() => new KaggleSource(dir.Path).ReadTrain());
        Assert.Contains("train.csv:3:", e.Message);
    }
}
