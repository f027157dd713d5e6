module doge-connect/compose-check

go 1.22

require github.com/compose-spec/compose-go/v2 v2.9.1
