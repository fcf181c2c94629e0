module example.com/bale/go-app

go 1.22
