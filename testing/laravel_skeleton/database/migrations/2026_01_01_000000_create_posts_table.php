<?php
use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;
return new class extends Migration
{
    public function up()
    {
        foreach (['posts', 'photos'] as $name) {
            Schema::create($name, function (Blueprint $table) {
                $table->id();
                $table->string('title');
                $table->string('cover_path')->nullable();
                $table->json('cover')->nullable();
                $table->string('cover_error')->nullable();
                $table->timestamps();
            });
        }
    }
};
